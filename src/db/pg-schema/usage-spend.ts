import { index, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { int64 } from "./columns";

/** Postgres twin of src/db/schema/usage-spend.ts: each key's spend per UTC day, for budget checks. */
export const usageSpend = pgTable(
  "usage_spend",
  {
    keyId: text("key_id").notNull(),
    accountId: text("account_id").notNull(),
    day: text("day").notNull(),
    tokens: int64("tokens").notNull(),
    costMicros: int64("cost_micros").notNull(),
  },
  (table) => [primaryKey({ columns: [table.keyId, table.day, table.accountId] }), index("usage_spend_account_day").on(table.accountId, table.day)],
);
