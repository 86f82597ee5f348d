import { OverloadedError } from "../errors";
import { chooseSlot, mustClear, type CacheIdentity, type SlotCache } from "./choose-slot";

/** A held slot (a llama.cpp sequence index); release it exactly once, extra calls are ignored. */
export interface Lease {
  readonly slot: number;
  release(): void;
}

export interface SchedulerOptions {
  /** Model id, only for error messages. */
  name: string;
  /** Slots that may be held at once (the context's sequences). */
  parallel: number;
  /** Requests that may wait for a slot; one more gets 503 at once. */
  queueSize: number;
  retryAfterSeconds?: number;
  /** The tokens a slot's KV cache holds now; default none (a pool without a cache). */
  cachedTokens?: (slot: number) => readonly number[];
  /**
   * Erases a slot's KV cache (and its draft's); the slot is held by nobody meanwhile. `evictedScope`
   * names the scope whose cache goes because another scope's request takes the slot (the engine may
   * save it for that scope); null when the cache is forgotten, which must leave no copy.
   */
  clearSlot?: (slot: number, evictedScope: string | null) => Promise<void>;
  /** Busy slots decode together only where their ids are consecutive (a KV cache per sequence): new work is kept next to them (see chooseSlot). */
  contiguous?: boolean;
}

export interface Scheduler extends Disposable {
  /**
   * Resolves with a free slot, first come first served. With a cache identity the slot is the
   * free one of the same scope sharing the longest prompt prefix, else the least recently used,
   * and it holds no tokens of another scope by the time the promise resolves (they are erased
   * first). Without one the slot's cache is left as it is: for holders that do not use it
   * (embeddings). Rejects at once with OverloadedError when the queue is full, and with the
   * signal's reason when it aborts while waiting (the place in the queue is given up).
   */
  acquire(signal: AbortSignal, identity?: CacheIdentity): Promise<Lease>;
  /**
   * Erases the cache of every slot last written by a scope that `matches`: free slots at once
   * (resolves when they are erased), held ones when their holder releases them.
   */
  forget(matches: (scope: string) => boolean): Promise<void>;
  /** The scope of each slot's cache, for status and invalidation; null where none may reuse it. */
  scopes(): readonly (string | null)[];
  readonly busy: number;
  readonly queued: number;
  readonly parallel: number;
  /** Called every time the last held slot is released and nobody waits. */
  onIdle(listener: () => void): void;
}

interface Waiter {
  identity: CacheIdentity | undefined;
  resolve(lease: Lease): void;
  reject(error: unknown): void;
  signal: AbortSignal;
  onAbort(): void;
}

interface SlotState {
  scope: string | null;
  lastUsed: number;
  /** Set when the slot's scope was forgotten while it was held: erased at release. */
  forgotten: boolean;
}

/**
 * The bounded queue in front of a model's sequence pool. It knows slots only as numbers and their
 * caches only as token lists, so the same logic serves the llama.cpp engine and the fake, and is
 * tested without a model.
 */
export function createScheduler(options: SchedulerOptions): Scheduler {
  const retryAfterSeconds = options.retryAfterSeconds ?? 1;
  const cachedTokens = options.cachedTokens ?? (() => []);
  const clearSlot = options.clearSlot ?? (() => Promise.resolve());
  const states: SlotState[] = Array.from({ length: options.parallel }, () => ({ scope: null, lastUsed: 0, forgotten: false }));
  const free = new Set<number>(states.keys());
  const waiting: Waiter[] = [];
  const idleListeners: (() => void)[] = [];
  let clock = 0;
  let disposed = false;

  const shuttingDown = () => new OverloadedError(`model '${options.name}' is shutting down`, retryAfterSeconds, "shutting_down");

  function lease(slot: number, identity: CacheIdentity | undefined): Lease {
    let released = false;
    return {
      slot,
      release() {
        if (released) return;
        released = true;
        const state = states[slot]!;
        state.lastUsed = ++clock;
        // A holder without an identity did not touch the cache, so its scope stays the one that wrote it.
        if (identity != null) state.scope = identity.scope;
        if (state.forgotten) {
          state.forgotten = false;
          state.scope = null;
          void erase(slot).finally(() => handOver(slot));
          return;
        }
        handOver(slot);
      },
    };
  }

  /** Erases a slot no one holds; a failed erase leaves it marked so that its next user erases it again. */
  async function erase(slot: number) {
    states[slot]!.scope = null;
    await clearSlot(slot, null).catch(() => {});
  }

  /** Gives a held slot to `identity`'s request once it holds nothing that request may not see. */
  async function grant(slot: number, identity: CacheIdentity | undefined, signal: AbortSignal): Promise<Lease> {
    const state = states[slot]!;
    if (mustClear({ scope: state.scope, tokens: cachedTokens(slot) }, identity)) {
      const evicted = state.scope;
      state.scope = null;
      try {
        await clearSlot(slot, evicted);
      } catch (error) {
        handOver(slot);
        throw error;
      }
      if (signal.aborted) {
        handOver(slot);
        throw signal.reason;
      }
    }
    // From here the slot's cache is the holder's: forgetting its scope meanwhile erases it at release.
    if (identity != null) state.scope = identity.scope;
    return lease(slot, identity);
  }

  function handOver(slot: number) {
    const next = waiting.shift();
    if (next != null) {
      next.signal.removeEventListener("abort", next.onAbort);
      grant(slot, next.identity, next.signal).then(next.resolve, next.reject);
      return;
    }
    free.add(slot);
    if (free.size === options.parallel) for (const listener of idleListeners) listener();
  }

  function busySlots(): Set<number> {
    const busy = new Set<number>();
    for (let slot = 0; slot < options.parallel; slot++) if (!free.has(slot)) busy.add(slot);
    return busy;
  }

  function freeCaches(): SlotCache[] {
    return [...free].map((slot) => ({ slot, scope: states[slot]!.scope, tokens: cachedTokens(slot), lastUsed: states[slot]!.lastUsed }));
  }

  return {
    acquire(signal, identity) {
      if (disposed) return Promise.reject(shuttingDown());
      if (signal.aborted) return Promise.reject(signal.reason);
      const chosen = chooseSlot(freeCaches(), identity, options.contiguous ? busySlots() : undefined);
      if (chosen != null) {
        free.delete(chosen.slot);
        return grant(chosen.slot, identity, signal);
      }
      if (waiting.length >= options.queueSize)
        return Promise.reject(
          new OverloadedError(
            `model '${options.name}' has ${options.parallel} busy sequences and ${waiting.length} queued requests; retry later`,
            retryAfterSeconds,
            "queue_full",
          ),
        );
      return new Promise<Lease>((resolve, reject) => {
        const waiter: Waiter = {
          identity,
          resolve,
          reject,
          signal,
          onAbort() {
            const index = waiting.indexOf(waiter);
            if (index >= 0) waiting.splice(index, 1);
            reject(signal.reason);
          },
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
        waiting.push(waiter);
      });
    },
    async forget(matches) {
      const erasing: Promise<void>[] = [];
      states.forEach((state, slot) => {
        if (state.scope == null || !matches(state.scope)) return;
        if (!free.has(slot)) {
          state.forgotten = true;
          return;
        }
        free.delete(slot);
        erasing.push(erase(slot).finally(() => handOver(slot)));
      });
      await Promise.all(erasing);
    },
    scopes() {
      return states.map((state) => state.scope);
    },
    get busy() {
      return options.parallel - free.size;
    },
    get queued() {
      return waiting.length;
    },
    get parallel() {
      return options.parallel;
    },
    onIdle(listener) {
      idleListeners.push(listener);
    },
    [Symbol.dispose]() {
      disposed = true;
      for (const waiter of waiting.splice(0)) {
        waiter.signal.removeEventListener("abort", waiter.onAbort);
        waiter.reject(shuttingDown());
      }
    },
  };
}
