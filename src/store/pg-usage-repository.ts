import { and, eq, isNotNull, sql } from "drizzle-orm";
import type { PgDb } from "../db/pg-client";
import { accounts, apiKeys, usageEvents, usageSpend } from "../db/pg-schema";
import { usageAggregate, type UsageRow } from "../metering/usage-report";
import { numeric, trafficMinutes, trafficTotals, type TrafficMinute, type TrafficTotals } from "../metering/traffic";
import { requestLogOrder, requestLogWhere } from "../metering/request-log";
import { DRAFT_SUMS, usageRelation, utcDay, type UsageTotals } from "../metering/usage-source";
import { spendWhere } from "./spend-where";
import { ancestorIds } from "./account-tree-sql";
import type { UsageRepository } from "./usage-repository";

/** Postgres sums bigints into numeric, which the client hands over as text. */
const SUMS = ["requests", "errors", "prompt_tokens", "completion_tokens", "cost_micros"] as const;

/** The usage aggregate on the shared Postgres store. */
export function createPgUsageRepository(db: PgDb): UsageRepository {
  return {
    record: (event) =>
      db.transaction(async (tx) => {
        const inserted = await tx.insert(usageEvents).values(event).onConflictDoNothing().returning({ id: usageEvents.id });
        if (inserted.length === 0) return false;
        await tx.update(apiKeys).set({ lastUsedAt: event.startedAt }).where(eq(apiKeys.id, event.keyId));
        // Nodes metering the same key on the same day serialise on this row: the sum stays exact.
        const spend = { tokens: event.promptTokens + event.completionTokens, costMicros: event.costMicros };
        await tx
          .insert(usageSpend)
          .values({ keyId: event.keyId, accountId: event.accountId, day: utcDay(event.startedAt.getTime()), ...spend })
          .onConflictDoUpdate({ target: [usageSpend.keyId, usageSpend.day, usageSpend.accountId], set: { tokens: sql`${usageSpend.tokens} + ${spend.tokens}`, costMicros: sql`${usageSpend.costMicros} + ${spend.costMicros}` } });
        if (event.costMicros > 0)
          // One UPDATE with the subtraction in SQL, on the account and every wallet above it:
          // nodes charging the same accounts at once serialise on their row locks.
          await tx
            .update(accounts)
            .set({ creditsMicros: sql`${accounts.creditsMicros} - ${event.costMicros}` })
            .where(and(sql`${accounts.id} in (${ancestorIds(event.accountId)})`, isNotNull(accounts.creditsMicros)));
        return true;
      }),
    async aggregate(filter, groupBy) {
      const rows = await db.execute<Record<string, unknown>>(usageAggregate(usageRelation(filter, "postgres"), groupBy));
      return rows.map((row) => {
        const out: Record<string, unknown> = { ...row };
        for (const column of SUMS) out[column] = Number(row[column]);
        return out as unknown as UsageRow;
      });
    },
    async spent(filter) {
      const [row] = await db
        .select({ tokens: sql<string>`coalesce(sum(${usageSpend.tokens}), 0)`, costMicros: sql<string>`coalesce(sum(${usageSpend.costMicros}), 0)` })
        .from(usageSpend)
        .where(spendWhere(usageSpend, filter));
      return { tokens: Number(row?.tokens ?? 0), costMicros: Number(row?.costMicros ?? 0) };
    },
    async totalsByKey(keyIds) {
      if (keyIds.length === 0) return new Map();
      const rows = await db.execute<{ key_id: string; requests: string; prompt_tokens: string; completion_tokens: string; cost_micros: string }>(sql`
        select key_id, sum(requests) as requests, sum(prompt_tokens) as prompt_tokens,
               sum(completion_tokens) as completion_tokens, sum(cost_micros) as cost_micros
        from (${usageRelation({ keyIds }, "postgres")}) as usage group by key_id`);
      return new Map<string, UsageTotals>(
        rows.map((row) => [
          row.key_id,
          { requests: Number(row.requests), promptTokens: Number(row.prompt_tokens), completionTokens: Number(row.completion_tokens), costMicros: Number(row.cost_micros) },
        ]),
      );
    },
    async draftSums() {
      const rows = await db.execute<{ model: string; requests: string; completion: string; accepted: string; reported: string }>(DRAFT_SUMS);
      return rows.map((row) => ({ model: row.model, requests: Number(row.requests), completion: Number(row.completion), accepted: Number(row.accepted), reported: Number(row.reported) }));
    },
    async traffic(scope, recentSince, seriesSince) {
      const [recent] = await db.execute<Record<string, unknown>>(trafficTotals(scope, recentSince, "postgres"));
      const minutes = await db.execute<Record<string, unknown>>(trafficMinutes(scope, seriesSince, "postgres"));
      return { recent: numeric<TrafficTotals>(recent ?? {}), minutes: minutes.map((row) => numeric<TrafficMinute>(row)) };
    },
    async requestPage(scope, query) {
      const [cursor] = query.before == null ? [] : await db.select({ startedAt: usageEvents.startedAt }).from(usageEvents).where(eq(usageEvents.id, query.before));
      if (query.before != null && cursor == null) return null;
      return db
        .select()
        .from(usageEvents)
        .where(requestLogWhere(usageEvents, scope, query, cursor?.startedAt ?? null))
        .orderBy(...requestLogOrder(usageEvents))
        .limit(query.limit);
    },
  };
}
