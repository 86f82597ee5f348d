import { StoreUnavailableError } from "../errors";

/** How often a failing store is probed: the probe is a real write, so not on every request. */
export const STORE_PROBE_INTERVAL_MS = 1000;

/**
 * Whether the store takes writes. A writer that must not be skipped (the usage recorder) reports
 * a failed write and registers a probe that retries it; new inference asks `assertWritable()`
 * first and is refused (503 store_unavailable) while the store fails, and /ready reports not
 * ready. Nothing needs restarting: while failing, the probe runs every interval on a timer (it
 * is a write, on Postgres a round trip, so no check waits for it), and the first probe that
 * writes clears the failure. The timer does not keep the process alive.
 */
export function createStoreHealth(options: { probeIntervalMs?: number } = {}) {
  const interval = options.probeIntervalMs ?? STORE_PROBE_INTERVAL_MS;
  let failing = false;
  let probe: (() => Promise<void>) | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let disposed = false;

  function schedule(): void {
    if (timer != null || probe == null || disposed) return;
    const retry = probe;
    timer = setTimeout(async () => {
      try {
        await retry();
        failing = false;
      } catch {
        // Still failing; the probe's owner keeps what it could not write.
      }
      timer = null;
      if (failing) schedule();
    }, interval);
    timer.unref?.();
  }

  const health = {
    /** A write that had to succeed did not; the probe (if any) retries it every interval. */
    failed(): void {
      failing = true;
      schedule();
    },
    /** A write succeeded: the store takes writes again. */
    recovered(): void {
      failing = false;
    },
    /** The write to retry while failing; it rejects while the store still cannot write. */
    setProbe(retry: () => Promise<void>): void {
      probe = retry;
    },
    writable(): boolean {
      return !failing;
    },
    assertWritable(): void {
      if (failing) throw new StoreUnavailableError();
    },
    /** Stops probing: the store is closing. */
    [Symbol.dispose](): void {
      disposed = true;
      if (timer != null) clearTimeout(timer);
      timer = null;
    },
  };
  return health;
}

export type StoreHealth = ReturnType<typeof createStoreHealth>;
