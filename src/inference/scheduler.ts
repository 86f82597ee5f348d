import { OverloadedError } from "../errors";

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
}

export interface Scheduler extends Disposable {
  /**
   * Resolves with a free slot, first come first served. Rejects at once with OverloadedError when
   * the queue is full, and with the signal's reason when it aborts while waiting (the place in the
   * queue is given up).
   */
  acquire(signal: AbortSignal): Promise<Lease>;
  readonly busy: number;
  readonly queued: number;
  readonly parallel: number;
  /** Called every time the last held slot is released and nobody waits. */
  onIdle(listener: () => void): void;
}

interface Waiter {
  resolve(lease: Lease): void;
  reject(error: unknown): void;
  signal: AbortSignal;
  onAbort(): void;
}

/**
 * The bounded queue in front of a model's sequence pool. It knows slots only as numbers, so the
 * same logic serves the llama.cpp engine and the fake, and is tested without a model.
 */
export function createScheduler(options: SchedulerOptions): Scheduler {
  const retryAfterSeconds = options.retryAfterSeconds ?? 1;
  const free: number[] = Array.from({ length: options.parallel }, (_, slot) => slot);
  const waiting: Waiter[] = [];
  const idleListeners: (() => void)[] = [];
  let disposed = false;

  function lease(slot: number): Lease {
    let released = false;
    return {
      slot,
      release() {
        if (released) return;
        released = true;
        handOver(slot);
      },
    };
  }

  function handOver(slot: number) {
    const next = waiting.shift();
    if (next != null) {
      next.signal.removeEventListener("abort", next.onAbort);
      next.resolve(lease(slot));
      return;
    }
    free.push(slot);
    if (free.length === options.parallel) for (const listener of idleListeners) listener();
  }

  return {
    acquire(signal) {
      if (disposed) return Promise.reject(new OverloadedError(`model '${options.name}' is shutting down`, retryAfterSeconds, "shutting_down"));
      if (signal.aborted) return Promise.reject(signal.reason);
      const slot = free.shift();
      if (slot != null) return Promise.resolve(lease(slot));
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
    get busy() {
      return options.parallel - free.length;
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
        waiter.reject(new OverloadedError(`model '${options.name}' is shutting down`, retryAfterSeconds, "shutting_down"));
      }
    },
  };
}
