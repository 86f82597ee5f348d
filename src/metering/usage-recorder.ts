import { and, eq, isNotNull, sql } from "drizzle-orm";
import type { SyncDb } from "../db/sync-db";
import { accounts, apiKeys, usageEvents, type UsageEventRow } from "../db/schema";

export type UsageEvent = UsageEventRow;

/**
 * Writes one metering row and its consequences in one transaction: the key's last-used time and,
 * for a prepaid account, the cost taken from its balance (which may go below zero by the last
 * request's cost; the next request is then refused).
 */
export function createUsageRecorder(deps: { db: SyncDb }) {
  const { db } = deps;
  return {
    record(event: UsageEvent): void {
      db.transaction((tx) => {
        tx.insert(usageEvents).values(event).onConflictDoNothing().run();
        tx.update(apiKeys).set({ lastUsedAt: event.startedAt }).where(eq(apiKeys.id, event.keyId)).run();
        if (event.costMicros > 0)
          tx.update(accounts)
            .set({ creditsMicros: sql`${accounts.creditsMicros} - ${event.costMicros}` })
            .where(and(eq(accounts.id, event.accountId), isNotNull(accounts.creditsMicros)))
            .run();
      });
    },
  };
}

export type UsageRecorder = ReturnType<typeof createUsageRecorder>;
