import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { accounts } from "./accounts";

/**
 * API keys, at rest only as a peppered SHA-256 hash. `lookup` (the first characters of the random
 * part, not enough to guess the rest) finds the candidate rows; the hash is then compared in
 * constant time. Limits left null fall back to `[limits]` in the config.
 */
export const apiKeys = sqliteTable(
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
    /** JSON array of model ids this key may use; null: every model. */
    models: text("models", { mode: "json" }).$type<string[]>(),
    /** JSON array of IPs or CIDR ranges the key may be used from; null: anywhere. */
    allowedIps: text("allowed_ips", { mode: "json" }).$type<string[]>(),
    /** JSON array of regions this key's requests may be processed in, within its account's; null: the account's. */
    allowedRegions: text("allowed_regions", { mode: "json" }).$type<string[]>(),
    concurrency: integer("concurrency"),
    rpm: integer("rpm"),
    tpm: integer("tpm"),
    budgetPeriod: text("budget_period", { enum: ["day", "month"] }),
    budgetTokens: integer("budget_tokens"),
    budgetCostMicros: integer("budget_cost_micros"),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
    lastUsedAt: integer("last_used_at", { mode: "timestamp_ms" }),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }),
    revokedAt: integer("revoked_at", { mode: "timestamp_ms" }),
  },
  (table) => [
    index("api_keys_lookup").on(table.lookup),
    index("api_keys_account").on(table.accountId),
    uniqueIndex("api_keys_live_name").on(table.accountId, table.name).where(sql`${table.revokedAt} is null`),
  ],
);

export type ApiKeyRow = typeof apiKeys.$inferSelect;
