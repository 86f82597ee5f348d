import { and, eq, getTableColumns, isNotNull, sql, type Placeholder } from "drizzle-orm";
import type { SyncDb } from "../db/sync-db";
import { accounts, apiKeys, usageEvents, usageSpend } from "../db/schema";
import type { UsageEvent } from "../metering/usage-recorder";
import { usageAggregate, type UsageRow } from "../metering/usage-report";
import { numeric, trafficMinutes, trafficTotals, type TrafficMinute, type TrafficTotals } from "../metering/traffic";
import { requestLogOrder, requestLogWhere } from "../metering/request-log";
import { DRAFT_SUMS, usageRelation, usageTotalsByKey, utcDay, type DraftSums } from "../metering/usage-source";
import { spendWhere } from "./spend-where";
import { ancestorIds } from "./account-tree-sql";
import { preparedOnce } from "./prepared-once";
import type { UsageRepository } from "./usage-repository";

/** A placeholder for every column of the usage row: the row is written whole, as the recorder has it. */
const usageEventPlaceholders = Object.fromEntries(Object.keys(getTableColumns(usageEvents)).map((column) => [column, sql.placeholder(column)])) as Record<keyof UsageEvent, Placeholder>;

/**
 * The metering row and its consequences, in one transaction: the cost comes off the balance of the
 * account and of every account above it that has a wallet (a parent's credits bound its subtree).
 * A request id already recorded (a retried write that had landed, a row copied in twice) changes
 * nothing: its credits were taken with the row. Returns whether the row was new.
 *
 * Every request ends here, on the event loop every running stream needs: the statements are
 * prepared once (drizzle building and SQLite compiling four statements per request cost more than
 * running them).
 */
function usageEventWriter(db: SyncDb) {
  const insertEvent = preparedOnce(() => db.insert(usageEvents).values(usageEventPlaceholders).onConflictDoNothing().returning({ id: usageEvents.id }).prepare());
  // a placeholder in set() skips the column's own encoding: the time goes in as the column stores it
  const touchKey = preparedOnce(() => db.update(apiKeys).set({ lastUsedAt: sql`${sql.placeholder("lastUsedAt")}` }).where(eq(apiKeys.id, sql.placeholder("keyId"))).prepare());
  const addSpend = preparedOnce(() =>
    db
      .insert(usageSpend)
      .values({ keyId: sql.placeholder("keyId"), accountId: sql.placeholder("accountId"), day: sql.placeholder("day"), tokens: sql.placeholder("tokens"), costMicros: sql.placeholder("costMicros") })
      .onConflictDoUpdate({
        target: [usageSpend.keyId, usageSpend.day, usageSpend.accountId],
        set: { tokens: sql`${usageSpend.tokens} + ${sql.placeholder("tokens")}`, costMicros: sql`${usageSpend.costMicros} + ${sql.placeholder("costMicros")}` },
      })
      .prepare(),
  );
  const chargeCredits = preparedOnce(() =>
    db
      .update(accounts)
      .set({ creditsMicros: sql`${accounts.creditsMicros} - ${sql.placeholder("costMicros")}` })
      .where(and(sql`${accounts.id} in (${ancestorIds(sql.placeholder("accountId"))})`, isNotNull(accounts.creditsMicros)))
      .prepare(),
  );
  return (event: UsageEvent): boolean =>
    db.transaction(() => {
      if (insertEvent().all(event).length === 0) return false;
      touchKey().run({ lastUsedAt: apiKeys.lastUsedAt.mapToDriverValue(event.startedAt), keyId: event.keyId });
      const spend = { tokens: event.promptTokens + event.completionTokens, costMicros: event.costMicros };
      addSpend().run({ keyId: event.keyId, accountId: event.accountId, day: utcDay(event.startedAt.getTime()), ...spend });
      if (event.costMicros > 0) chargeCredits().run({ costMicros: event.costMicros, accountId: event.accountId });
      return true;
    });
}

/** The usage aggregate on the embedded SQLite store. */
export function createSqliteUsageRepository(db: SyncDb): UsageRepository {
  const writeUsageEvent = usageEventWriter(db);
  return {
    async record(event) {
      return writeUsageEvent(event);
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
