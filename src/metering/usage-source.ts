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

/** What a budget check sums: whole UTC days from the day of `since` (budget periods start at UTC midnight). */
export type SpendFilter = Pick<UsageFilter, "keyIds" | "accountIds" | "since">;

/** The UTC day (YYYY-MM-DD) an epoch-ms instant falls on: how usage_spend keys its rows. */
export const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** What draft acceptance is computed from, per model. */
export interface DraftSums {
  model: string;
  requests: number;
  completion: number;
  accepted: number;
  /** Completion tokens of requests that reported draft acceptance at all. */
  reported: number;
}

/**
 * Per-model draft sums over request rows and daily roll-ups, in SQL both dialects run (a roll-up
 * keeps no null: a day counts as reported when any draft token was accepted).
 */
export const DRAFT_SUMS = sql`
  select model, sum(requests) as requests, sum(completion) as completion, sum(accepted) as accepted, sum(reported) as reported
  from (
    select coalesce(model, '') as model, count(*) as requests, coalesce(sum(completion_tokens), 0) as completion,
           coalesce(sum(draft_tokens_accepted), 0) as accepted,
           coalesce(sum(case when draft_tokens_accepted is null then 0 else completion_tokens end), 0) as reported
    from usage_events group by coalesce(model, '')
    union all
    select model, sum(requests), sum(completion_tokens), sum(draft_tokens_accepted),
           sum(case when draft_tokens_accepted > 0 then completion_tokens else 0 end)
    from usage_daily group by model
  ) as sums
  group by model`;

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
export const instantOf: Record<UsageDialect, (ms: number) => SQL> = {
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

