import { and, gte, inArray, sql, type Column, type SQL } from "drizzle-orm";
import { utcDay, type SpendFilter } from "../metering/usage-source";

/** The usage_spend rows a budget check sums, on either dialect's table. */
export function spendWhere(table: { keyId: Column; accountId: Column; day: Column }, filter: SpendFilter): SQL | undefined {
  return and(
    filter.keyIds == null ? undefined : filter.keyIds.length === 0 ? sql`1 = 0` : inArray(table.keyId, [...filter.keyIds]),
    filter.accountIds == null ? undefined : filter.accountIds.length === 0 ? sql`1 = 0` : inArray(table.accountId, [...filter.accountIds]),
    filter.since == null ? undefined : gte(table.day, utcDay(filter.since)),
  );
}
