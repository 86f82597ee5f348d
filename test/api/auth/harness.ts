import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { guardedRoutes } from "../../support/guarded-routes";
import { cliActor } from "../../../src/accounts/actor";
import { configSchema, type Config } from "../../../src/config/schema";
import { openStore } from "../../../src/db/client";
import { migrate } from "../../../src/db/migrate";
import { decorateEngine } from "../../../src/inference/decorate-engine";
import type { Engine } from "../../../src/inference/engine";
import { createFakeEngine, type FakeEngineOptions } from "../../../src/inference/fake-engine";
import type { GenerationEvent } from "../../../src/inference/types";
import { createTestApp, memoryLogger, request } from "../../support/test-app";

/** An engine that counts requests in flight (from generate() until its stream ends) and the most at once. */
export function countingEngine(inner: Engine) {
  const stats = { inFlight: 0, maxInFlight: 0, started: 0 };
  const enter = () => {
    stats.started++;
    stats.maxInFlight = Math.max(stats.maxInFlight, ++stats.inFlight);
  };
  const engine = decorateEngine(inner, {
    async generate(request) {
      enter();
      let events: AsyncIterable<GenerationEvent>;
      try {
        events = await inner.generate(request);
      } catch (error) {
        stats.inFlight--;
        throw error;
      }
      const iterator = events[Symbol.asyncIterator]();
      let left = false;
      const leave = () => {
        if (!left) (left = true), stats.inFlight--;
      };
      return {
        [Symbol.asyncIterator]: () => ({
          async next() {
            try {
              const result = await iterator.next();
              if (result.done) leave();
              return result;
            } catch (error) {
              leave();
              throw error;
            }
          },
          async return() {
            try {
              await iterator.return?.();
            } finally {
              leave();
            }
            return { done: true as const, value: undefined };
          },
        }),
      };
    },
    async embed(request) {
      enter();
      try {
        return await inner.embed(request);
      } finally {
        stats.inFlight--;
      }
    },
  });
  return { engine, stats };
}

export interface GuardedAppOptions {
  /** Raw config tables merged over the defaults, e.g. { limits: { concurrency: 2 } }. */
  config?: Record<string, unknown>;
  fake?: FakeEngineOptions;
  now?: () => number;
  clientIp?: Parameters<typeof guardedRoutes>[0]["clientIp"];
  /** The engine the guarded routes serve, built over the (counting) fake one, e.g. serve's router; default the fake itself. */
  engine?: (local: Engine, config: Config) => Engine;
}

/** The real app with the guarded /v1 and /admin routes over a fake engine and a fresh store in a temp dir, plus an admin key. */
export async function guardedApp(options: GuardedAppOptions = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), "enclave-auth-"));
  const store = openStore(dataDir);
  migrate(store);
  const config = configSchema.parse(options.config ?? {});
  const counted = countingEngine(createFakeEngine({ models: [{ id: "fake", parallel: 64, queueSize: 64 }, { id: "other", parallel: 4 }], ...options.fake }));
  const { logger, lines } = memoryLogger();
  const engine = options.engine?.(counted.engine, config) ?? counted.engine;
  const guarded = guardedRoutes({ config, engine, store, logger, now: options.now, clientIp: options.clientIp });
  const { app } = createTestApp({ engine, routes: guarded.routes, logger });
  const cli = cliActor("test");
  const root = await guarded.accounts.ensureDefault(cli);
  const admin = await guarded.keys.create(cli, { name: "root-admin", role: "admin", account_id: root.id });
  return {
    app,
    store,
    dataDir,
    config,
    stats: counted.stats,
    keys: guarded.keys,
    accounts: guarded.accounts,
    admission: guarded.admission,
    cli,
    root,
    adminSecret: admin.secret,
    /** Log lines of the app and of the gate (one logger). */
    logLines: lines,
    [Symbol.dispose]() {
      store[Symbol.dispose]();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

export function api(path: string, secret: string | null, init: RequestInit & { json?: unknown } = {}): Request {
  return request(path, { ...init, headers: { ...(secret != null && bearer(secret)), ...(init.headers as Record<string, string> | undefined) } });
}

export const chatBody = (body: Record<string, unknown> = {}) => ({ model: "fake", messages: [{ role: "user", content: "count 1 2 3" }], ...body });
