import { sql, type SQL } from "drizzle-orm";
import { inAccountScope, type AccountScope } from "../store/account-scope";
import { instantOf, type UsageDialect } from "./usage-source";

/** Request rows over a window, as the console's overview counts them. */
export interface TrafficTotals {
  requests: number;
  errors: number;
  client_errors: number;
  server_errors: number;
  completion_tokens: number;
  /** Milliseconds spent generating (duration less time to first token) by requests that produced tokens. */
  generating_ms: number;
}

/** One minute of the series: `minute` is epoch minutes. */
export type TrafficMinute = Omit<TrafficTotals, "generating_ms"> & { minute: number };

export interface Traffic {
  recent: TrafficTotals;
  minutes: TrafficMinute[];
}

const epochMinute: Record<UsageDialect, SQL> = {
  sqlite: sql`cast(started_at / 60000 as integer)`,
  postgres: sql`cast(floor(extract(epoch from started_at) / 60) as bigint)`,
};
const larger: Record<UsageDialect, (a: SQL, b: SQL) => SQL> = {
  sqlite: (a, b) => sql`max(${a}, ${b})`,
  postgres: (a, b) => sql`greatest(${a}, ${b})`,
};

// A 4xx is the client's doing (a bad request, a limit, a missing model); a 5xx is this server's: they call for different people.
const counts = sql`count(*) as requests,
  coalesce(sum(case when status >= 400 then 1 else 0 end), 0) as errors,
  coalesce(sum(case when status >= 400 and status < 500 then 1 else 0 end), 0) as client_errors,
  coalesce(sum(case when status >= 500 then 1 else 0 end), 0) as server_errors,
  coalesce(sum(completion_tokens), 0) as completion_tokens`;

/** Totals of the request rows in `scope` since `since` (epoch ms). */
export function trafficTotals(scope: AccountScope, since: number, dialect: UsageDialect): SQL {
  const generating = larger[dialect](sql`duration_ms - coalesce(ttft_ms, 0)`, sql`1`);
  return sql`select ${counts}, coalesce(sum(case when completion_tokens > 0 then ${generating} else 0 end), 0) as generating_ms
    from usage_events where started_at >= ${instantOf[dialect](since)} and ${inAccountScope(scope, sql.raw("account_id"))}`;
}

/** Per-minute counts of the request rows in `scope` since `since` (epoch ms); minutes without rows are absent. */
export function trafficMinutes(scope: AccountScope, since: number, dialect: UsageDialect): SQL {
  return sql`select ${epochMinute[dialect]} as minute, ${counts}
    from usage_events where started_at >= ${instantOf[dialect](since)} and ${inAccountScope(scope, sql.raw("account_id"))}
    group by 1`;
}

/** Rows as the driver hands them (Postgres sums arrive as text) in numbers. */
export function numeric<T>(row: Record<string, unknown>): T {
  return Object.fromEntries(Object.entries(row).map(([name, value]) => [name, Number(value)])) as T;
}
