import { and, eq, isNotNull, sql } from "drizzle-orm";
import type { SyncDb } from "../db/sync-db";
import { accounts, apiKeys, usageEvents, usageSpend } from "../db/schema";
import type { UsageEvent } from "../metering/usage-recorder";
import { usageAggregate, type UsageRow } from "../metering/usage-report";
import { numeric, trafficMinutes, trafficTotals, type TrafficMinute, type TrafficTotals } from "../metering/traffic";
import { requestLogOrder, requestLogWhere } from "../metering/request-log";
import { DRAFT_SUMS, usageRelation, usageTotalsByKey, utcDay, type DraftSums } from "../metering/usage-source";
import { spendWhere } from "./spend-where";
import { ancestorIds } from "./account-tree-sql";
import type { UsageRepository } from "./usage-repository";

/**
 * The metering row and its consequences, inside the caller's transaction: the cost comes off the
 * balance of the account and of every account above it that has a wallet (a parent's credits
 * bound its subtree). A request id already recorded (a retried write that had landed, a row
 * copied in twice) changes nothing: its credits were taken with the row. Returns whether the row
 * was new.
 */
function writeUsageEvent(tx: SyncDb, event: UsageEvent): boolean {
  const inserted = tx.insert(usageEvents).values(event).onConflictDoNothing().returning({ id: usageEvents.id }).all();
  if (inserted.length === 0) return false;
  tx.update(apiKeys).set({ lastUsedAt: event.startedAt }).where(eq(apiKeys.id, event.keyId)).run();
  const spend = { tokens: event.promptTokens + event.completionTokens, costMicros: event.costMicros };
  tx.insert(usageSpend)
    .values({ keyId: event.keyId, accountId: event.accountId, day: utcDay(event.startedAt.getTime()), ...spend })
    .onConflictDoUpdate({ target: [usageSpend.keyId, usageSpend.day, usageSpend.accountId], set: { tokens: sql`${usageSpend.tokens} + ${spend.tokens}`, costMicros: sql`${usageSpend.costMicros} + ${spend.costMicros}` } })
    .run();
  if (event.costMicros > 0)
    tx.update(accounts)
      .set({ creditsMicros: sql`${accounts.creditsMicros} - ${event.costMicros}` })
      .where(and(sql`${accounts.id} in (${ancestorIds(event.accountId)})`, isNotNull(accounts.creditsMicros)))
      .run();
  return true;
}

/** The usage aggregate on the embedded SQLite store. */
export function createSqliteUsageRepository(db: SyncDb): UsageRepository {
  return {
    async record(event) {
      return db.transaction((tx) => writeUsageEvent(tx, event));
    },
    async aggregate(filter, groupBy) {
      return db.all<UsageRow>(usageAggregate(usageRelation(filter), groupBy));
    },
    async spent(filter) {
      const row = db
        .select({ tokens: sql<number>`coalesce(sum(${usageSpend.tokens}), 0)`, costMicros: sql<number>`coalesce(sum(${usageSpend.costMicros}), 0)` })
        .from(usageSpend)
        .where(spendWhere(usageSpend, filter))
        .get();
      return { tokens: Number(row?.tokens ?? 0), costMicros: Number(row?.costMicros ?? 0) };
    },
    async totalsByKey(keyIds) {
      return usageTotalsByKey(db, keyIds);
    },
    async draftSums() {
      return db.all<DraftSums>(DRAFT_SUMS);
    },
    async traffic(scope, recentSince, seriesSince) {
      const [recent] = db.all<Record<string, unknown>>(trafficTotals(scope, recentSince, "sqlite"));
      return {
        recent: numeric<TrafficTotals>(recent ?? {}),
        minutes: db.all<Record<string, unknown>>(trafficMinutes(scope, seriesSince, "sqlite")).map((row) => numeric<TrafficMinute>(row)),
      };
    },
    async requestPage(scope, query) {
      const cursor = query.before == null ? null : (db.select({ startedAt: usageEvents.startedAt }).from(usageEvents).where(eq(usageEvents.id, query.before)).get()?.startedAt ?? null);
      if (query.before != null && cursor == null) return null;
      return db
        .select()
        .from(usageEvents)
        .where(requestLogWhere(usageEvents, scope, query, cursor))
        .orderBy(...requestLogOrder(usageEvents))
        .limit(query.limit)
        .all();
    },
  };
}
