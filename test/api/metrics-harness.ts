import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliActor } from "../../src/accounts/actor";
import { guardedRoutes } from "../support/guarded-routes";
import { configSchema } from "../../src/config/schema";
import { openStore } from "../../src/db/client";
import { migrate } from "../../src/db/migrate";
import { createFakeEngine, type FakeEngineOptions } from "../../src/inference/fake-engine";
import { createMetrics } from "../../src/metrics/metrics-registry";
import { createMetricsRoutes } from "../../src/metrics/metrics-routes";
import { createLogger } from "../../src/logging/logger";
import { createTestApp } from "../support/test-app";

export interface MetricsAppOptions {
  /** Raw config tables over the defaults, e.g. { metrics: { token: "t" }, limits: { rpm: 1 } }. */
  config?: Record<string, unknown>;
  fake?: FakeEngineOptions;
  /** The production logger (JSON, redaction) at this level, writing into logLines; default debug. */
  logLevel?: "trace" | "debug" | "info";
}

/**
 * The app as `enclave serve` wires it with metrics: the fake engine behind the metrics decorator,
 * the guarded /v1 and /admin routes over it, GET /metrics, and the app shell's request hook.
 */
export async function metricsApp(options: MetricsAppOptions = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), "enclave-metrics-"));
  const store = openStore(dataDir);
  migrate(store);
  const config = configSchema.parse(options.config ?? {});
  const metrics = createMetrics({ config, version: "test" });
  const engine = metrics.instrument(createFakeEngine({ models: [{ id: "fake", parallel: 8, queueSize: 8 }], ...options.fake }));
  const lines: string[] = [];
  const logger = createLogger({ logging: { level: options.logLevel ?? "debug" } }, { write: (line: string) => void lines.push(line) });
  const guarded = guardedRoutes({ config, engine, store, logger });
  const { app } = createTestApp({ engine, logger, metrics, routes: [...guarded.routes, createMetricsRoutes({ config, metrics })] });
  const cli = cliActor("test");
  const root = await guarded.accounts.ensureDefault(cli);
  const { secret } = await guarded.keys.create(cli, { name: "app", account_id: root.id });
  return {
    app,
    engine,
    metrics,
    secret,
    logLines: lines,
    [Symbol.dispose]() {
      store[Symbol.dispose]();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
