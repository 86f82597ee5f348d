import { ConflictError } from "../accounts/conflict-error";
import type { ModelConfig } from "../config/schema";
import { ModelNotFoundError } from "../errors";
import type { Logger } from "../logging/logger";
import type { Engine } from "./engine";
import type { ModelStatus } from "./types";

export interface ModelPoolDeps {
  models: readonly ModelConfig[];
  /** The engine that serves one model: a llama engine over the shared llama.cpp, or a fake in tests. It loads its model at start(). */
  createEngine: (model: ModelConfig) => Engine;
  logger: Pick<Logger, "info" | "warn" | "error">;
  /** Runs once every engine is disposed, e.g. to dispose the llama.cpp instance they shared. */
  onDisposed?: () => Promise<void>;
}

/** The engine over the configured models, which an admin can change while it serves. */
export interface ModelPool extends Engine {
  configs(): ModelConfig[];
  /** Throws ConflictError when the id is taken; the model loads on first use or load(). */
  add(model: ModelConfig): void;
  /** Resolves when the model is loaded; rejects with the engine's load error. */
  load(id: string): Promise<void>;
  /**
   * The model leaves memory: new requests get a fresh, unloaded engine (loaded again on first
   * use), the old one is disposed once its in-flight requests have finished. Resolves then.
   */
  unload(id: string): Promise<void>;
  /** As unload, and the id is no longer served: new requests get 404 model_not_found at once. */
  remove(id: string): Promise<void>;
  /** Applies a reloaded `[[models]]`: new models come in, removed and changed ones drain and go. */
  reconcile(models: readonly ModelConfig[]): void;
  /** Resolves when every model being unloaded or removed has drained and been disposed. */
  drained(): Promise<void>;
}

/** One engine and the requests it is serving, so it is disposed only after the last one. */
interface Serving {
  engine: Engine;
  inflight: number;
  idle: PromiseWithResolvers<void> | null;
}

interface Slot {
  config: ModelConfig;
  serving: Serving;
  idleTimer: Timer | null;
}

/**
 * One engine per model behind one Engine. Owning the set of models here, rather than in the
 * llama engine, lets a model be added, unloaded or replaced while the others serve, and lets an
 * unloaded engine finish its in-flight streams while the next requests already go to its
 * successor. The pool also owns keep-alive: a non-default model's engine is swapped for an
 * unloaded one after keep_alive_seconds without a request.
 */
export function createModelPool(deps: ModelPoolDeps): ModelPool {
  const { logger } = deps;
  let slots = new Map<string, Slot>();
  const retiring = new Map<Serving, Promise<void>>();
  let disposed = false;

  const serve = (config: ModelConfig): Serving => ({ engine: deps.createEngine(config), inflight: 0, idle: null });
  const newSlot = (config: ModelConfig): Slot => ({ config, serving: serve(config), idleTimer: null });
  for (const model of deps.models) slots.set(model.id, newSlot(model));

  const defaultId = (): string | undefined => {
    const all = [...slots.values()];
    return (all.find((slot) => slot.config.default) ?? all[0])?.config.id;
  };
  const isDefault = (slot: Slot) => slot.config.id === defaultId();
  const stateOf = (serving: Serving, id: string) => serving.engine.models().find((status) => status.id === id)?.state ?? "unloaded";

  function slotOf(id: string): Slot {
    const slot = slots.get(id);
    if (slot == null) throw new ModelNotFoundError(id);
    return slot;
  }

  function stopIdleTimer(slot: Slot) {
    if (slot.idleTimer != null) clearTimeout(slot.idleTimer);
    slot.idleTimer = null;
  }

  function scheduleIdleUnload(slot: Slot) {
    stopIdleTimer(slot);
    if (disposed || isDefault(slot) || slot.config.keep_alive_seconds === 0 || slot.serving.inflight > 0) return;
    slot.idleTimer = setTimeout(() => {
      slot.idleTimer = null;
      if (slots.get(slot.config.id) !== slot || slot.serving.inflight > 0) return;
      const state = stateOf(slot.serving, slot.config.id);
      // A load a request started (answered 503 model_loading) is still running: wait for it to end.
      if (state === "loading") return scheduleIdleUnload(slot);
      if (state !== "ready") return;
      logger.info({ model: slot.config.id }, "model unloaded after keep-alive");
      void swap(slot, slot.config);
    }, slot.config.keep_alive_seconds * 1000);
    slot.idleTimer.unref?.();
  }

  /** Disposes the engine once its in-flight requests are done; errors are logged, not thrown. */
  function retire(serving: Serving, id: string): Promise<void> {
    const done = (async () => {
      if (serving.inflight > 0) await (serving.idle ??= Promise.withResolvers<void>()).promise;
      await serving.engine[Symbol.asyncDispose]();
    })().catch((error: unknown) => logger.error({ model: id, err: { type: error instanceof Error ? error.name : typeof error } }, "model engine failed to dispose"));
    retiring.set(serving, done);
    void done.finally(() => retiring.delete(serving));
    return done;
  }

  /** New requests go to a fresh engine for `config`; the old one drains and goes. */
  function swap(slot: Slot, config: ModelConfig): Promise<void> {
    stopIdleTimer(slot);
    const old = slot.serving;
    slot.config = config;
    slot.serving = serve(config);
    return retire(old, config.id);
  }

  async function tracked<T>(id: string, use: (engine: Engine) => Promise<T>, keepOpen?: (result: T, release: () => void) => T): Promise<T> {
    const slot = slotOf(id);
    const serving = slot.serving;
    serving.inflight += 1;
    stopIdleTimer(slot);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      serving.inflight -= 1;
      if (serving.inflight > 0) return;
      serving.idle?.resolve();
      if (slot.serving === serving && slots.get(id) === slot) scheduleIdleUnload(slot);
    };
    let result: T;
    try {
      result = await use(serving.engine);
    } catch (error) {
      release();
      throw error;
    }
    if (keepOpen == null) {
      release();
      return result;
    }
    return keepOpen(result, release);
  }

  const cachingEngines = () => [...[...slots.values()].map((slot) => slot.serving.engine), ...[...retiring.keys()].map((serving) => serving.engine)];

  return {
    async start() {
      const id = defaultId();
      if (id != null) await slotOf(id).serving.engine.start();
    },
    isReady() {
      const id = defaultId();
      return !disposed && id != null && slotOf(id).serving.engine.isReady();
    },
    models(): ModelStatus[] {
      const fallback = defaultId();
      return [...slots.values()].flatMap((slot) => {
        const status = slot.serving.engine.models().find((model) => model.id === slot.config.id);
        return status == null ? [] : [{ ...status, isDefault: slot.config.id === fallback }];
      });
    },
    generate: (request) => tracked(request.model, (engine) => engine.generate(request), whenEnded),
    embed: (request) => tracked(request.model, (engine) => engine.embed(request)),
    countTokens: (request) => tracked(request.model, (engine) => engine.countTokens(request)),
    // Every engine that may still hold a prefix: those serving and those finishing their last streams.
    promptCache: {
      scopes() {
        return [...new Set(cachingEngines().flatMap((engine) => engine.promptCache?.scopes() ?? []))];
      },
      async forget(owner) {
        await Promise.all(cachingEngines().map((engine) => engine.promptCache?.forget(owner)));
      },
    },
    configs: () => [...slots.values()].map((slot) => slot.config),
    add(model) {
      if (slots.has(model.id)) throw new ConflictError(`model '${model.id}' already exists`, "id");
      slots.set(model.id, newSlot(model));
      logger.info({ model: model.id }, "model added");
    },
    async load(id) {
      const slot = slotOf(id);
      stopIdleTimer(slot);
      await slot.serving.engine.start();
      scheduleIdleUnload(slot);
    },
    unload(id) {
      const slot = slotOf(id);
      logger.info({ model: id, inflight: slot.serving.inflight }, "model unloading");
      return swap(slot, slot.config);
    },
    remove(id) {
      const slot = slotOf(id);
      stopIdleTimer(slot);
      slots.delete(id);
      logger.info({ model: id, inflight: slot.serving.inflight }, "model removed");
      return retire(slot.serving, id);
    },
    reconcile(models) {
      const next = new Map<string, Slot>();
      for (const config of models) {
        const slot = slots.get(config.id);
        if (slot == null) next.set(config.id, newSlot(config));
        else {
          if (JSON.stringify(slot.config) !== JSON.stringify(config)) void swap(slot, config);
          next.set(config.id, slot);
        }
      }
      for (const [id, slot] of slots)
        if (!next.has(id)) {
          stopIdleTimer(slot);
          void retire(slot.serving, id);
        }
      slots = next;
      // The default model is loaded at all times, whichever it now is.
      const id = defaultId();
      if (id != null)
        slotOf(id).serving.engine.start().catch(() => {
          // The engine logs why; /ready stays false.
        });
      for (const slot of slots.values()) if (!isDefault(slot)) scheduleIdleUnload(slot);
    },
    async drained() {
      while (retiring.size > 0) await Promise.all(retiring.values());
    },
    async [Symbol.asyncDispose]() {
      if (disposed) return;
      disposed = true;
      const all = [...slots.values()].reverse();
      for (const slot of all) stopIdleTimer(slot);
      // Shutdown does not wait for streams (the server's grace period did): each engine stops its own.
      for (const serving of retiring.keys()) (serving.idle ??= Promise.withResolvers<void>()).resolve();
      await Promise.all([...all.map((slot) => slot.serving.engine[Symbol.asyncDispose]()), ...retiring.values()]);
      await deps.onDisposed?.();
    },
  };
}

/** `onEnd` runs exactly once however the stream ends: drained, thrown, or return()ed, even before the first next(). */
function whenEnded<T>(stream: AsyncIterable<T>, onEnd: () => void): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      const inner = stream[Symbol.asyncIterator]();
      return {
        async next() {
          try {
            const result = await inner.next();
            if (result.done) onEnd();
            return result;
          } catch (error) {
            onEnd();
            throw error;
          }
        },
        async return() {
          try {
            await inner.return?.();
          } finally {
            onEnd();
          }
          return { done: true, value: undefined };
        },
      };
    },
  };
}
