import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * What each key spent per UTC day (tokens and cost), added to in the transaction that meters a
 * request: budget checks read a month at most 31 rows per key instead of summing every request
 * of the period, so admission stays as fast on day 30 as on day 1. Counts and ids only.
 */
export const usageSpend = sqliteTable(
  "usage_spend",
  {
    keyId: text("key_id").notNull(),
    /** The key's account when the request ran (usage stays with the account it was spent under). */
    accountId: text("account_id").notNull(),
    /** YYYY-MM-DD (UTC). */
    day: text("day").notNull(),
    tokens: integer("tokens").notNull(),
    costMicros: integer("cost_micros").notNull(),
  },
  (table) => [primaryKey({ columns: [table.keyId, table.day, table.accountId] }), index("usage_spend_account_day").on(table.accountId, table.day)],
);

export type UsageSpendRow = typeof usageSpend.$inferSelect;
