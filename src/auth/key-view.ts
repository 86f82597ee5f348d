import { fromMicros } from "../accounts/limits-input";
import type { ApiKeyRow } from "../db/schema";
import { displayPrefix } from "./api-key-secret";
import type { KeyUsageTotals } from "./key-service";

/** A key as the admin API and the CLI show it: never the secret or its hash, only the display prefix. */
export function toKeyView(row: ApiKeyRow, usage?: KeyUsageTotals) {
  return {
    id: row.id,
    object: "api_key" as const,
    name: row.name,
    account_id: row.accountId,
    role: row.role,
    prefix: displayPrefix(row.lookup),
    models: row.models,
    allowed_ips: row.allowedIps,
    allowed_regions: row.allowedRegions,
    concurrency: row.concurrency,
    rpm: row.rpm,
    tpm: row.tpm,
    budget_period: row.budgetPeriod,
    budget_tokens: row.budgetTokens,
    budget_cost: fromMicros(row.budgetCostMicros),
    created_at: row.createdAt.toISOString(),
    last_used_at: row.lastUsedAt?.toISOString() ?? null,
    expires_at: row.expiresAt?.toISOString() ?? null,
    revoked_at: row.revokedAt?.toISOString() ?? null,
    ...(usage !== undefined && {
      usage: { requests: usage.requests, prompt_tokens: usage.promptTokens, completion_tokens: usage.completionTokens, cost: usage.costMicros / 1e6 },
    }),
  };
}
