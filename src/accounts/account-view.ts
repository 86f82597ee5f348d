import type { AccountRow } from "../db/schema";
import { fromMicros } from "./limits-input";

/** An account as the admin API and the CLI show it: snake_case, money in currency units, ISO times. */
export function toAccountView(row: AccountRow) {
  return {
    id: row.id,
    object: "account" as const,
    name: row.name,
    parent_id: row.parentId,
    concurrency: row.concurrency,
    budget_period: row.budgetPeriod,
    budget_tokens: row.budgetTokens,
    budget_cost: fromMicros(row.budgetCostMicros),
    credits: fromMicros(row.creditsMicros),
    allowed_regions: row.allowedRegions,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    deleted_at: row.deletedAt?.toISOString() ?? null,
  };
}
