import type { AccountRow, ApiKeyRow } from "../../src/db/schema";

/** A live top-level account with no limits, created and updated at `at`. */
export function accountRow(id: string, at: Date, fields: Partial<AccountRow> = {}): AccountRow {
  return {
    id,
    name: id,
    parentId: null,
    concurrency: null,
    budgetPeriod: null,
    budgetTokens: null,
    budgetCostMicros: null,
    creditsMicros: null,
    allowedRegions: null,
    createdAt: at,
    updatedAt: at,
    deletedAt: null,
    ...fields,
  };
}

/** A live user key of `accountId` with no limits of its own, created and updated at `at`. */
export function keyRow(id: string, accountId: string, at: Date, fields: Partial<ApiKeyRow> = {}): ApiKeyRow {
  return {
    id,
    accountId,
    name: id,
    role: "user",
    lookup: `look${id}`.slice(0, 8),
    keyHash: `hash-${id}`,
    models: null,
    allowedIps: null,
    allowedRegions: null,
    concurrency: null,
    rpm: null,
    tpm: null,
    budgetPeriod: null,
    budgetTokens: null,
    budgetCostMicros: null,
    createdAt: at,
    updatedAt: at,
    lastUsedAt: null,
    expiresAt: null,
    revokedAt: null,
    ...fields,
  };
}
