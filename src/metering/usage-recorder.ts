import type { StoreHealth } from "../db/store-health";
import { storeErrorOf } from "../db/store-error-of";
import type { UsageEventRow } from "../db/schema";
import type { UsageRepository } from "../store/usage-repository";

export type UsageEvent = UsageEventRow;

/** Rows kept while the store cannot write; while it fails new inference is refused, so only requests already running add to it. */
const MAX_PENDING = 10_000;

/**
 * Writes one metering row and its consequences in one transaction: the key's last-used time and,
 * for a prepaid account, the cost taken from its balance (which may go below zero by the last
 * request's cost; the next request is then refused).
 *
 * Inference that cannot be metered escapes budgets and credits, so a row the store cannot take
 * (disk full, read-only, I/O error, lock not had in time) is kept, in order, and `health` is
 * marked failing: the gate then refuses new inference. The kept rows are written first on the
 * next record and by the health probe, and the first write that succeeds clears the failure.
 */
export function createUsageRecorder(deps: { usage: UsageRepository; health: StoreHealth }) {
  const { usage, health } = deps;
  const pending: UsageEvent[] = [];
  let draining: Promise<void> | null = null;

  /** Writes the kept rows oldest first; rejects at the first the store cannot take. */
  async function drain(): Promise<void> {
    while (pending.length > 0) {
      const event = pending[0]!;
      try {
        await usage.record(event);
      } catch (error) {
        if (storeErrorOf(error) != null) {
          health.failed();
          throw error;
        }
        // A row the store refuses for itself (not for the store's state) would block every later one.
        if (pending[0] === event) pending.shift();
        throw error;
      }
      // The cap may have dropped it while it was being written.
      if (pending[0] === event) pending.shift();
    }
    health.recovered();
  }

  /** One drain at a time, however many requests finish at once: kept rows go in order and none twice. */
  function flush(): Promise<void> {
    draining ??= drain().finally(() => {
      draining = null;
    });
    return draining;
  }
  health.setProbe(flush);

  return {
    /** Settles once this row (and every row kept before it) is written, or with the write's error. */
    record(event: UsageEvent): Promise<void> {
      if (pending.length >= MAX_PENDING) pending.shift();
      pending.push(event);
      return flush();
    },
  };
}

export type UsageRecorder = ReturnType<typeof createUsageRecorder>;
