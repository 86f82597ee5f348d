import { sql, type SQL } from "drizzle-orm";
import type { SyncDb } from "../db/sync-db";

const DAY_MS = 86_400_000;

/** Which metering to read; times in ms since the epoch, `since` inclusive and `until` exclusive. */
export interface UsageFilter {
  keyIds?: readonly string[];
  accountIds?: readonly string[];
  since?: number;
  until?: number;
}

export interface UsageTotals {
  requests: number;
  promptTokens: number;
  completionTokens: number;
  costMicros: number;
}

/** YYYY-MM-DD of the first UTC midnight at or after `ms`. */
const firstDayFrom = (ms: number) => new Date(Math.ceil(ms / DAY_MS) * DAY_MS).toISOString().slice(0, 10);

const within = (column: SQL, ids: readonly string[]) =>
  ids.length === 0 ? sql`false` : sql`${column} in (${sql.join(ids.map((id) => sql`${id}`), sql`, `)})`;

/** Which SQL the relation is written in: started_at is epoch ms in SQLite and a timestamptz in Postgres. */
export type UsageDialect = "sqlite" | "postgres";

/** An epoch-ms bound as the dialect compares it with started_at (so its index still serves). */
const instantOf: Record<UsageDialect, (ms: number) => SQL> = {
  sqlite: (ms) => sql`${ms}`,
  postgres: (ms) => sql`to_timestamp(${ms}::float8 / 1000)`,
};
const startedDay: Record<UsageDialect, SQL> = {
  sqlite: sql`strftime('%Y-%m-%d', started_at / 1000, 'unixepoch')`,
  postgres: sql`to_char(started_at at time zone 'UTC', 'YYYY-MM-DD')`,
};

/**
 * All metering as one relation: the request-level rows (usage_events) and the daily aggregates the
 * retention purge folded older ones into (usage_daily), so totals do not drop when rows roll up.
 * Columns: key_id, account_id, model (null when none was named), day (YYYY-MM-DD, UTC), requests,
 * errors, prompt_tokens, completion_tokens, cost_micros. A rolled-up day counts at its UTC
 * midnight: `since`/`until` within a day leave it out/in (whole days are exact).
 */
export function usageRelation(filter: UsageFilter = {}, dialect: UsageDialect = "sqlite"): SQL {
  const events: SQL[] = [sql`true`];
  const days: SQL[] = [sql`true`];
  for (const [column, ids] of [["key_id", filter.keyIds], ["account_id", filter.accountIds]] as const) {
    if (ids == null) continue;
    events.push(within(sql.raw(column), ids));
    days.push(within(sql.raw(column), ids));
  }
  if (filter.since != null) {
    events.push(sql`started_at >= ${instantOf[dialect](filter.since)}`);
    days.push(sql`day >= ${firstDayFrom(filter.since)}`);
  }
  if (filter.until != null) {
    events.push(sql`started_at < ${instantOf[dialect](filter.until)}`);
    days.push(sql`day < ${firstDayFrom(filter.until)}`);
  }
  return sql`
    select key_id, account_id, model, ${startedDay[dialect]} as day, 1 as requests,
           case when status >= 400 then 1 else 0 end as errors, prompt_tokens, completion_tokens, cost_micros
    from usage_events where ${sql.join(events, sql` and `)}
    union all
    select key_id, account_id, nullif(model, '') as model, day, requests,
           errors, prompt_tokens, completion_tokens, cost_micros
    from usage_daily where ${sql.join(days, sql` and `)}`;
}

/** Lifetime totals per key id (keys without usage are absent). */
export function usageTotalsByKey(db: SyncDb, keyIds: readonly string[]): Map<string, UsageTotals> {
  if (keyIds.length === 0) return new Map();
  const rows = db.all<UsageTotals & { keyId: string }>(sql`
    select key_id as keyId, sum(requests) as requests, sum(prompt_tokens) as promptTokens,
           sum(completion_tokens) as completionTokens, sum(cost_micros) as costMicros
    from (${usageRelation({ keyIds })}) group by key_id`);
  return new Map(rows.map(({ keyId, ...totals }) => [keyId, totals]));
}

/** Tokens (prompt + completion) and cost spent under `filter`, e.g. by a key since its budget period began. */
export function usageSpent(db: SyncDb, filter: UsageFilter): { tokens: number; costMicros: number } {
  // db.all: drizzle's get() of raw SQL returns the row as an array.
  const [row] = db.all<{ tokens: number; costMicros: number }>(sql`
    select coalesce(sum(prompt_tokens + completion_tokens), 0) as tokens, coalesce(sum(cost_micros), 0) as costMicros
    from (${usageRelation(filter)})`);
  return row!;
}
