import type { Logger } from "../logging/logger";
import type { PurgeJob } from "./purge-job";

export interface Timers {
  setTimeout(callback: () => void | Promise<void>, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (callback, ms) => {
    const timer = setTimeout(callback, ms);
    // A pending purge must not keep the process alive on shutdown.
    (timer as { unref?: () => void }).unref?.();
    return timer;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Runs the purge at start-up and then `intervalMs` after each run ends; dispose stops it. A failing run is
 * logged (by error class only) and the schedule goes on. Timers are injectable for tests.
 */
export function startPurgeSchedule(deps: { job: PurgeJob; intervalMs: number; logger: Logger; timers?: Timers; initialDelayMs?: number }): Disposable & { runs: number } {
  const timers = deps.timers ?? realTimers;
  let handle: unknown = null;
  let disposed = false;
  const state = {
    runs: 0,
    [Symbol.dispose]() {
      disposed = true;
      if (handle != null) timers.clearTimeout(handle);
      handle = null;
    },
  };
  // The next run is timed from the end of this one, so runs never overlap.
  const tick = async () => {
    handle = null;
    if (disposed) return;
    try {
      state.runs++;
      await deps.job.run();
    } catch (error) {
      deps.logger.error({ err: { type: (error as Error)?.name ?? typeof error } }, "retention purge failed");
    }
    if (!disposed) handle = timers.setTimeout(tick, deps.intervalMs);
  };
  handle = timers.setTimeout(tick, deps.initialDelayMs ?? 0);
  return state;
}
