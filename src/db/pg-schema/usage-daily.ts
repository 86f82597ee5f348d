import { index, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { int64 } from "./columns";

/** Postgres twin of src/db/schema/usage-daily.ts: metering rolled up per UTC day. */
export const usageDaily = pgTable(
  "usage_daily",
  {
    day: text("day").notNull(),
    accountId: text("account_id").notNull(),
    keyId: text("key_id").notNull(),
    endpoint: text("endpoint").notNull(),
    model: text("model").notNull(),
    requests: int64("requests").notNull(),
    errors: int64("errors").notNull(),
    promptTokens: int64("prompt_tokens").notNull(),
    completionTokens: int64("completion_tokens").notNull(),
    draftTokensAccepted: int64("draft_tokens_accepted").notNull(),
    costMicros: int64("cost_micros").notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.day, table.accountId, table.keyId, table.endpoint, table.model] }),
    index("usage_daily_key_day").on(table.keyId, table.day),
    index("usage_daily_account_day").on(table.accountId, table.day),
  ],
);
