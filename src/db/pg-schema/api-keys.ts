import { sql } from "drizzle-orm";
import { index, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { accounts } from "./accounts";
import { instant, int64, jsonList } from "./columns";

/** Postgres twin of src/db/schema/api-keys.ts: keys at rest only as peppered hashes. */
export const apiKeys = pgTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    name: text("name").notNull(),
    role: text("role", { enum: ["admin", "manager", "user"] }).notNull(),
    lookup: text("lookup").notNull(),
    keyHash: text("key_hash").notNull().unique(),
    models: jsonList("models"),
    allowedIps: jsonList("allowed_ips"),
    allowedRegions: jsonList("allowed_regions"),
    concurrency: int64("concurrency"),
    rpm: int64("rpm"),
    tpm: int64("tpm"),
    budgetPeriod: text("budget_period", { enum: ["day", "month"] }),
    budgetTokens: int64("budget_tokens"),
    budgetCostMicros: int64("budget_cost_micros"),
    createdAt: instant("created_at").notNull(),
    updatedAt: instant("updated_at").notNull(),
    lastUsedAt: instant("last_used_at"),
    expiresAt: instant("expires_at"),
    revokedAt: instant("revoked_at"),
  },
  (table) => [
    index("api_keys_lookup").on(table.lookup),
    index("api_keys_account").on(table.accountId),
    uniqueIndex("api_keys_live_name").on(table.accountId, table.name).where(sql`${table.revokedAt} is null`),
  ],
);
