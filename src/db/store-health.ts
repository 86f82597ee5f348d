import { StoreUnavailableError } from "../errors";

/** How often a failing store is probed, at most: the probe is a real write, so not on every request. */
export const STORE_PROBE_INTERVAL_MS = 1000;

/**
 * Whether the store takes writes. A writer that must not be skipped (the usage recorder) reports
 * a failed write and registers a probe that retries it; new inference asks `assertWritable()`
 * first and is refused (503 store_unavailable) while the store fails, and /ready reports not
 * ready. Nothing needs restarting: the next check after the interval runs the probe, and the
 * first probe that writes clears the failure.
 */
export function createStoreHealth(options: { now?: () => number; probeIntervalMs?: number } = {}) {
  const now = options.now ?? Date.now;
  const interval = options.probeIntervalMs ?? STORE_PROBE_INTERVAL_MS;
  let failingSince: number | null = null;
  let lastProbe = 0;
  let probe: (() => void) | null = null;

  const health = {
    /** A write that had to succeed did not; the probe (if any) will retry it. */
    failed(): void {
      failingSince ??= now();
      lastProbe = now();
    },
    /** A write succeeded: the store takes writes again. */
    recovered(): void {
      failingSince = null;
    },
    /** The write to retry while failing; it throws while the store still cannot write. */
    setProbe(retry: () => void): void {
      probe = retry;
    },
    /** False while failing; probes first when the interval since the last try has passed. */
    writable(): boolean {
      if (failingSince == null) return true;
      if (now() - lastProbe < interval) return false;
      lastProbe = now();
      try {
        probe?.();
        failingSince = null;
      } catch {
        // Still failing; the probe's owner keeps what it could not write.
      }
      return failingSince == null;
    },
    assertWritable(): void {
      if (!health.writable()) throw new StoreUnavailableError();
    },
  };
  return health;
}

export type StoreHealth = ReturnType<typeof createStoreHealth>;
