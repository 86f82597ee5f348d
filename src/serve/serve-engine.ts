import { availableParallelism } from "node:os";
import { type Llama, LlamaContext } from "node-llama-cpp";
import type { Config } from "../config/schema";
import { upstreamCredentials } from "../config/upstream-credentials";
import type { Engine } from "../inference/engine";
import { createLlamaEngine } from "../inference/llama-engine";
import { loadLlama } from "../inference/load-llama";
import { createModelPool, type ModelPool } from "../inference/model-pool";
import { createSocketInputCheck } from "../inference/socket-input";
import type { Logger } from "../logging/logger";
import { withUpstreams } from "../upstreams/with-upstreams";

export interface EngineStack {
  /** What the API runs on. */
  engine: Engine;
  /** The local models, which /admin/models changes while the server runs. */
  pool: ModelPool;
  /** Applies a reloaded config's [[models]] and [[upstreams]] to the requests that start from now on. */
  reload(config: Readonly<Config>): void;
}

export interface ServeEngineDeps {
  config: Readonly<Config>;
  logger: Logger;
  /** Builds the engine of one model; default a llama engine over one llama.cpp instance shared by every model. */
  createModelEngine?: (model: Config["models"][number], shared: () => Promise<Llama>) => Engine;
  /** Told once llama.cpp has started, e.g. to report its release and GPU in metrics. */
  onLlamaLoaded?: (llama: Llama) => void;
  /** Upstream API keys; default read from each upstream's api_key_env. */
  credentials?: (config: Readonly<Config>) => ReadonlyMap<string, string>;
}

/**
 * The engine `serve` runs: the model pool (one llama engine per model over one llama.cpp) behind
 * the region-aware router with the declared upstreams. A reload reconciles the pool and builds
 * the router again over the same pool; requests already routed finish on the router they got.
 */
export function createServeEngine(deps: ServeEngineDeps): EngineStack {
  const { config, logger } = deps;
  const credentials = deps.credentials ?? upstreamCredentials;
  const budget = config.engine.max_threads > 0 ? config.engine.max_threads : availableParallelism();
  let llama: Promise<Llama> | undefined;
  const shared = () =>
    (llama ??= loadLlama(config.engine, budget, logger).then((loaded) => {
      // A request that arrives while a decode run holds the event loop joins at the run's next step.
      LlamaContext.runInterrupted ??= createSocketInputCheck();
      deps.onLlamaLoaded?.(loaded);
      return loaded;
    }));
  const createModelEngine =
    deps.createModelEngine ?? ((model, sharedLlama) => createLlamaEngine({ config: { engine: config.engine, models: [model], limits: config.limits }, logger, loadLlama: sharedLlama }));
  const pool = createModelPool({
    models: config.models,
    logger,
    createEngine: (model) => createModelEngine(model, shared),
    onDisposed: async () => {
      if (llama != null) await (await llama).dispose();
    },
  });
  const route = (next: Readonly<Config>, keys: ReadonlyMap<string, string>) => withUpstreams({ config: next, local: pool, credentials: keys, logger });
  let router = route(config, credentials(config));
  let upstreams = JSON.stringify(config.upstreams);

  const engine: Engine = {
    start: () => router.start(),
    isReady: () => router.isReady(),
    models: () => router.models(),
    generate: (request) => router.generate(request),
    embed: (request) => router.embed(request),
    countTokens: (request) => router.countTokens(request),
    // The router disposes the pool and its upstreams; routers replaced by a reload hold nothing to dispose.
    [Symbol.asyncDispose]: () => router[Symbol.asyncDispose](),
  };
  return {
    engine,
    pool,
    reload(next) {
      pool.reconcile(next.models);
      if (JSON.stringify(next.upstreams) !== upstreams) {
        router.retire();
        router = route(next, credentials(next));
        upstreams = JSON.stringify(next.upstreams);
      }
    },
  };
}
