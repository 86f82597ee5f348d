import { sql } from "drizzle-orm";
import { type AnySQLiteColumn, index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/**
 * A customer, team or app. Accounts form a tree (parent_id): a manager key administers its own
 * account and every account below it. Limits left null fall back to `[limits]` in the config.
 * Deleting an account marks it (usage stays attributable); its name becomes free again.
 */
export const accounts = sqliteTable(
  "accounts",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    parentId: text("parent_id").references((): AnySQLiteColumn => accounts.id),
    /** In-flight requests across the account's keys; null: limits.account_concurrency. */
    concurrency: integer("concurrency"),
    /** "day" | "month" (UTC calendar); null: no budget. */
    budgetPeriod: text("budget_period", { enum: ["day", "month"] }),
    budgetTokens: integer("budget_tokens"),
    /** Millionths of the pricing currency. */
    budgetCostMicros: integer("budget_cost_micros"),
    /** Prepaid balance in millionths of the currency; null: no wallet (not prepaid). */
    creditsMicros: integer("credits_micros"),
    /** JSON array of regions this account's requests may be processed in, narrowing `[residency]` (and its parent's); null: no narrowing. */
    allowedRegions: text("allowed_regions", { mode: "json" }).$type<string[]>(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
    deletedAt: integer("deleted_at", { mode: "timestamp_ms" }),
  },
  (table) => [
    uniqueIndex("accounts_live_name").on(table.name).where(sql`${table.deletedAt} is null`),
    index("accounts_parent").on(table.parentId),
  ],
);

export type AccountRow = typeof accounts.$inferSelect;
