import { and, eq, isNotNull, sql } from "drizzle-orm";
import type { SyncDb } from "../db/sync-db";
import type { StoreHealth } from "../db/store-health";
import { storeErrorOf } from "../db/store-error-of";
import { accounts, apiKeys, usageEvents, type UsageEventRow } from "../db/schema";

export type UsageEvent = UsageEventRow;

/**
 * The metering row and its consequences, inside the caller's transaction. A request id already
 * recorded (a retried write that had landed, a row copied in twice) changes nothing: its credits
 * were taken with the row. Returns whether the row was new.
 */
export function writeUsageEvent(tx: SyncDb, event: UsageEvent): boolean {
  const inserted = tx.insert(usageEvents).values(event).onConflictDoNothing().returning({ id: usageEvents.id }).all();
  if (inserted.length === 0) return false;
  tx.update(apiKeys).set({ lastUsedAt: event.startedAt }).where(eq(apiKeys.id, event.keyId)).run();
  if (event.costMicros > 0)
    tx.update(accounts)
      .set({ creditsMicros: sql`${accounts.creditsMicros} - ${event.costMicros}` })
      .where(and(eq(accounts.id, event.accountId), isNotNull(accounts.creditsMicros)))
      .run();
  return true;
}

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
export function createUsageRecorder(deps: { db: SyncDb; health: StoreHealth }) {
  const { db, health } = deps;
  const pending: UsageEvent[] = [];

  function write(event: UsageEvent): void {
    db.transaction((tx) => writeUsageEvent(tx, event));
  }

  /** Writes the kept rows oldest first; throws at the first the store cannot take. */
  function flush(): void {
    while (pending.length > 0) {
      try {
        write(pending[0]!);
      } catch (error) {
        if (storeErrorOf(error) != null) {
          health.failed();
          throw error;
        }
        pending.shift(); // a row the store refuses for itself (not for the store's state) would block every later one
        throw error;
      }
      pending.shift();
    }
    health.recovered();
  }
  health.setProbe(flush);

  return {
    record(event: UsageEvent): void {
      if (pending.length >= MAX_PENDING) pending.shift();
      pending.push(event);
      flush();
    },
  };
}

export type UsageRecorder = ReturnType<typeof createUsageRecorder>;
