import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * Metering rolled up per UTC day once request-level rows pass `[retention] metadata_detail_days`
 * (or at an account's erasure): counts and sums only, no request ids, timings or client IPs.
 */
export const usageDaily = sqliteTable(
  "usage_daily",
  {
    /** YYYY-MM-DD (UTC). */
    day: text("day").notNull(),
    accountId: text("account_id").notNull(),
    keyId: text("key_id").notNull(),
    endpoint: text("endpoint").notNull(),
    /** "" when the request never named a model. */
    model: text("model").notNull(),
    requests: integer("requests").notNull(),
    errors: integer("errors").notNull(),
    promptTokens: integer("prompt_tokens").notNull(),
    completionTokens: integer("completion_tokens").notNull(),
    draftTokensAccepted: integer("draft_tokens_accepted").notNull(),
    costMicros: integer("cost_micros").notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.day, table.accountId, table.keyId, table.endpoint, table.model] }),
    // Usage reports, key totals and budgets read roll-ups by key or account.
    index("usage_daily_key_day").on(table.keyId, table.day),
    index("usage_daily_account_day").on(table.accountId, table.day),
  ],
);

export type UsageDailyRow = typeof usageDaily.$inferSelect;
