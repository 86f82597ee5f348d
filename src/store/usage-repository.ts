import type { UsageEventRow } from "../db/schema";
import type { RequestLogQuery } from "../metering/request-log";
import type { UsageDimension, UsageRow } from "../metering/usage-report";
import type { Traffic } from "../metering/traffic";
import type { UsageEvent } from "../metering/usage-recorder";
import type { DraftSums, SpendFilter, UsageFilter, UsageTotals } from "../metering/usage-source";
import type { AccountScope } from "./account-scope";

/** The usage aggregate: metering rows, their daily roll-ups, and what they charge, on either backend. */
export interface UsageRepository {
  /**
   * Stores one metering row, the key's last-used time and, for a prepaid account, the cost taken
   * from its credits, all or nothing. A request id already stored changes nothing; returns whether
   * the row was new.
   */
  record(event: UsageEvent): Promise<boolean>;
  /** Sums grouped by `groupBy`, over request rows and roll-ups alike. */
  aggregate(filter: UsageFilter, groupBy: readonly UsageDimension[]): Promise<UsageRow[]>;
  /**
   * Tokens (prompt + completion) and cost spent under `filter`, from the per-key daily spend that
   * `record` keeps: a budget check reads at most a period's days, however many requests ran.
   */
  spent(filter: SpendFilter): Promise<{ tokens: number; costMicros: number }>;
  /** Lifetime totals per key id (keys without usage are absent). */
  totalsByKey(keyIds: readonly string[]): Promise<Map<string, UsageTotals>>;
  /** Draft-token sums per model ("" for requests without one), over request rows and roll-ups alike. */
  draftSums(): Promise<DraftSums[]>;
  /** Up to `query.limit` request rows in scope, newest first, older than the `before` row; null when `before` names no row. */
  requestPage(scope: AccountScope, query: RequestLogQuery): Promise<UsageEventRow[] | null>;
  /** Request rows in scope: totals since `recentSince`, and per minute since `seriesSince` (epoch ms). */
  traffic(scope: AccountScope, recentSince: number, seriesSince: number): Promise<Traffic>;
}
