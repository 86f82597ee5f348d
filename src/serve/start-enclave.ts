import { randomUUID } from "node:crypto";
import type { Server } from "bun";
import { createApp } from "../api/app";
import { edgeServeOptions } from "../api/edge-serve-options";
import { rememberPeer } from "../api/gate/client-ip";
import { createUiRoutes } from "../ui/ui-routes";
import { composeApi } from "../compose/compose-api";
import { composeServices, type Services } from "../compose/compose-services";
import type { Config } from "../config/schema";
import type { Store } from "../db/client";
import { instance } from "../db/schema";
import type { Engine } from "../inference/engine";
import { engineFailure } from "../inference/engine-failure";
import type { Logger } from "../logging/logger";
import type { Metrics } from "../metrics/metrics-registry";
import { createMetricsRoutes } from "../metrics/metrics-routes";
import { ENCLAVE_VERSION } from "../version";
import { isLoopback } from "../net/is-loopback";
import { startPurgeSchedule } from "../privacy/purge-schedule";
import { residencyReport } from "../residency/residency-report";
import { createLiveConfig } from "../config/live-config";
import { createModelAdmin } from "../models/model-admin";
import { restartOnlyChanges } from "./restart-only-changes";
import type { EngineStack } from "./serve-engine";
import { logStartupSummary } from "./log-startup-summary";
import { openConfiguredStore, type ConfiguredStore } from "../store/open-configured-store";

export interface EnclaveDeps {
  config: Readonly<Config>;
  logger: Logger;
  /**
   * Builds the engine once the store is open (the demo model is forged into the data dir). With
   * a model pool (serve's engine stack) /admin/models manages it and a reload reaches it.
   */
  createEngine: (config: Readonly<Config>) => Promise<Engine | EngineStack>;
  /** The config file the server runs on, which `persist` writes to; null or absent: none. */
  configFile?: string | null;
  /** With metrics: the engine is instrumented (the routes get that engine), requests are counted, and [metrics] path is served. */
  metrics?: Metrics;
}

export interface RunningEnclave extends AsyncDisposable {
  readonly url: URL;
  readonly engine: Engine;
  /** The configured store: the data dir's SQLite file, or the Postgres store a fleet shares. */
  readonly store: ConfiguredStore;
  /** The services the API runs on (keys, accounts, privacy...), as the CLI gets them. */
  readonly services: Services;
  /** Resolves when the default model is loaded (or rejects when it fails to load). */
  readonly ready: Promise<void>;
  /** Stops accepting, lets in-flight requests finish within the grace period, then disposes in reverse order. */
  stop(): Promise<void>;
  /**
   * Applies a reloaded, already validated config to the requests that start from now on: limits,
   * pricing, retention windows, models and upstreams. In-flight requests finish as they began.
   * Returns the changed settings that need a restart (they keep their running value).
   */
  reload(next: Readonly<Config>, actor?: string): Promise<{ restartNeeded: string[] }>;
}

/**
 * `enclave serve` wired: start-up in dependency order: store, services (composeServices),
 * retention schedule, engine, the API over it (composeApi), HTTP. The server listens before the default model
 * is loaded so /health answers at once and /ready tells when inference can start.
 */
export async function startEnclave(deps: EnclaveDeps): Promise<RunningEnclave> {
  const { logger } = deps;
  // Services read their settings through the live view, so a reload reaches them (see live-config.ts).
  const live = createLiveConfig(deps.config);
  const config = live.view;
  const store = await openConfiguredStore(config, { create: true });
  if (store.sqlite != null) ensureInstanceRow(store.sqlite);
  logger.info({ store: store.kind, location: store.location }, "store open");
  const services = composeServices({ config, store, logger, onPurged: deps.metrics?.recordPurge });
  deps.metrics?.setAuditChainLength(() => services.audit.length());
  // Retention runs now and then every purge_interval_minutes, until stop.
  const purge = startPurgeSchedule({ job: services.privacy.purge, intervalMs: config.retention.purge_interval_minutes * 60_000, logger });

  const built = await deps.createEngine(deps.config);
  const stack = "pool" in built ? built : null;
  const models = stack != null ? createModelAdmin({ pool: stack.pool, live, configFile: deps.configFile ?? null, audit: services.audit, logger }) : undefined;
  const api = composeApi({
    services,
    engine: stack?.engine ?? (built as Engine),
    logger,
    metrics: deps.metrics,
    residency: () => residencyReport(live.current()),
    models,
  });
  // The app shell's /ready and the shutdown see the engine below metering (it has no caller).
  const engine = api.instrumented;
  let storeOpen = true;
  const routes = [
    ...api.routes,
    // /ui is the console, a client of /v1 and /admin.
    ...(config.ui.enabled ? [createUiRoutes()] : []),
    ...(deps.metrics != null ? [createMetricsRoutes({ config, metrics: deps.metrics })] : []),
  ];
  const app = createApp({
    config,
    engine,
    logger,
    version: ENCLAVE_VERSION,
    // Not ready while usage rows cannot be written.
    storeIsOpen: () => storeOpen && store.health.writable(),
    routes,
    metrics: deps.metrics,
  });

  const { host, port, tls } = config.server;
  let server: Server<unknown>;
  try {
    server = listen();
  } catch (error) {
    // Nothing listens (the port is taken, a TLS file is unreadable): undo what started, in reverse.
    await engine[Symbol.asyncDispose]();
    purge[Symbol.dispose]();
    await services[Symbol.asyncDispose]();
    await store[Symbol.asyncDispose]();
    throw error;
  }
  function listen(): Server<unknown> {
    return Bun.serve({
      hostname: host,
      port,
      // Generation can pause longer than Bun's 10 s default between bytes (a long prompt, a queue wait).
      idleTimeout: 255,
      // Bun shares the port with \`routes\` unless told not to: a second instance on it (one not stopped after an
      // upgrade) started without a word and took half the connections, with its own data dir and keys.
      reusePort: false,
      tls: tls ? { cert: Bun.file(tls.cert), key: Bun.file(tls.key) } : undefined,
      ...edgeServeOptions(
        app.routes.map((route) => route.path),
        (request, server) => {
          rememberPeer(request, server); // client IP for key allow-lists and metering
          return app.handle(request);
        },
      ),
    });
  }
  const url = new URL(`${tls ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${server.port}`);
  logStartupSummary({ config, logger, url, models: engine.models(), keyCount: (await services.store.repositories.keys.list({ includeRevoked: false })).length });
  if (!tls && !isLoopback(host))
    logger.warn({ host }, "serving plain HTTP on a non-loopback address: traffic, prompts and API keys cross the network unencrypted; set [server.tls] cert and key");

  const ready = engine.start().then(
    () => logger.info("default model ready"),
    (error: unknown) => {
      logger.error({ err: engineFailure(error) }, "default model failed to load");
      throw error;
    },
  );
  ready.catch(() => {});

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info({ graceSeconds: config.server.shutdown_grace_seconds }, "shutting down");
      const drained = server.stop(false).then(() => "drained" as const);
      let graceTimer: Timer | undefined;
      const grace = new Promise<"timeout">((resolve) => {
        graceTimer = setTimeout(() => resolve("timeout"), config.server.shutdown_grace_seconds * 1000);
      });
      const outcome = await Promise.race([drained, grace]);
      clearTimeout(graceTimer);
      if (outcome === "timeout") {
        logger.warn("grace period over; closing the remaining connections");
        await server.stop(true);
      }
      // A generation that never ends must not keep the process alive: the engine gets one more grace period.
      const engineStopped = await settlesWithin(engine[Symbol.asyncDispose](), config.server.shutdown_grace_seconds * 1000);
      if (!engineStopped) logger.warn({ graceSeconds: config.server.shutdown_grace_seconds }, "engine did not stop within the grace period; stopping without it");
      purge[Symbol.dispose]();
      api.promptCacheSweep?.[Symbol.dispose]();
      storeOpen = false;
      // This node's concurrency leases go back to the fleet before the store closes.
      await services[Symbol.asyncDispose]();
      await store[Symbol.asyncDispose]();
      logger.info("stopped");
    })());

  const reload = async (next: Readonly<Config>, actor = "signal:SIGHUP") => {
    const restartNeeded = restartOnlyChanges(live.current(), next);
    live.replace(next);
    stack?.reload(next);
    await services.audit.append({ actor, action: "config.reload", target: deps.configFile ?? "(defaults)", details: { restart_needed: restartNeeded } }, new Date());
    logger.info({ config: deps.configFile ?? null, models: next.models.map((model) => model.id), upstreams: next.upstreams.map((upstream) => upstream.id) }, "config reloaded");
    if (restartNeeded.length > 0)
      logger.warn({ settings: restartNeeded }, `config reloaded, but these settings need a restart and keep their running value: ${restartNeeded.join(", ")}`);
    return { restartNeeded };
  };

  return { url, engine, store, services, ready, stop, reload, [Symbol.asyncDispose]: stop };
}

/** Whether `promise` settled (either way) within `ms`. */
async function settlesWithin(promise: PromiseLike<unknown>, ms: number): Promise<boolean> {
  let timer: Timer | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = promise.then(
    () => true as const,
    () => true as const,
  );
  const outcome = await Promise.race([settled, late]);
  clearTimeout(timer);
  return outcome;
}

function ensureInstanceRow(store: Store): void {
  if (store.db.select().from(instance).get() == null) store.db.insert(instance).values({ id: randomUUID(), createdAt: new Date() }).run();
}
