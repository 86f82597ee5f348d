import { sql } from "drizzle-orm";
import { type AnyPgColumn, index, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { instant, int64, jsonList } from "./columns";

/** Postgres twin of src/db/schema/accounts.ts (column meanings are documented there). */
export const accounts = pgTable(
  "accounts",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    parentId: text("parent_id").references((): AnyPgColumn => accounts.id),
    concurrency: int64("concurrency"),
    budgetPeriod: text("budget_period", { enum: ["day", "month"] }),
    budgetTokens: int64("budget_tokens"),
    budgetCostMicros: int64("budget_cost_micros"),
    creditsMicros: int64("credits_micros"),
    allowedRegions: jsonList("allowed_regions"),
    createdAt: instant("created_at").notNull(),
    updatedAt: instant("updated_at").notNull(),
    deletedAt: instant("deleted_at"),
  },
  (table) => [
    uniqueIndex("accounts_live_name").on(table.name).where(sql`${table.deletedAt} is null`),
    index("accounts_parent").on(table.parentId),
  ],
);
