import type { AuditEntry } from "../audit/append-audit";
import type { CacheOwner } from "../inference/cache-scope";
import type { AccountRow, ApiKeyRow, AuditRow, ConsentRow, RetainedPayloadRow, RetentionOverrideRow, UsageDailyRow, UsageEventRow, UsageSpendRow } from "../db/schema";
import type { ErasureReport } from "../privacy/data-subject-service";
import type { AccountScope } from "./account-scope";

/** Everything stored about one account: what an export shows (payloads still encrypted). */
export interface SubjectRecords {
  account: AccountRow;
  keys: ApiKeyRow[];
  requests: UsageEventRow[];
  daily: UsageDailyRow[];
  /** Each key's spend per day, what budgets read. */
  spend: UsageSpendRow[];
  consents: ConsentRow[];
  overrides: RetentionOverrideRow[];
  payloads: RetainedPayloadRow[];
  /** Entries whose target is the account, one of its keys or overrides, or one of its consents. */
  audit: AuditRow[];
}

export type ErasureCounts = Omit<ErasureReport, "object" | "account_id" | "space">;

/** What an erasure did, on either backend; it was already erased when it renamed nothing and found nothing left to remove. */
export function erasureCounts(renamed: boolean, removed: Omit<ErasureCounts, "already_erased">): ErasureCounts {
  const total = removed.keys_revoked + removed.payloads_deleted + removed.usage_rows_rolled_up + removed.consents_revoked + removed.overrides_removed;
  return { already_erased: !renamed && total === 0, ...removed };
}

export type ErasureOutcome =
  | { erased: ErasureCounts & Pick<ErasureReport, "space"> }
  /** The eraser's own account is the account or lies below it. */
  | { refused: "own-account" }
  | { refused: "sub-accounts"; child: string };

/**
 * The data-subject aggregate: one account's records across every table, read for an export or
 * erased, each in one transaction with its audit entry, on either backend. Accounts are found
 * in `scope` whether deleted or not (an erased account can still be exported, erased again).
 */
export interface SubjectRepository {
  /** The records, and the entry `audit` makes of them appended after they were read; null: no such account in scope. */
  export(scope: AccountScope, accountId: string, at: Date, audit: (records: SubjectRecords) => AuditEntry): Promise<SubjectRecords | null>;
  /**
   * Revokes the account's keys, deletes its payloads, folds its request rows into daily
   * aggregates, revokes its consents (keeping them without the consenting person's name), drops
   * its overrides, replaces its and its keys' names and marks it deleted; then appends what
   * `audit` makes of the counts. Refused, changing nothing, for the eraser's own account (or one
   * above it) and for an account with live sub-accounts.
   */
  erase(
    scope: AccountScope,
    accountId: string,
    eraser: { actor: string; accountId: string | null; at: Date },
    audit: (counts: ErasureCounts) => AuditEntry,
  ): Promise<ErasureOutcome | null>;
  /**
   * Whether the owner of cached prompt prefixes may no longer get in: its account is gone,
   * erased or deleted; its key is gone, revoked or not the account's; or, for an account-scoped
   * owner (every key of the account wrote into its prefixes), one of the account's keys was
   * revoked at or after `since`.
   */
  lockedOut(owner: CacheOwner, since: Date): Promise<boolean>;
}

export const ERASED_NAME_PREFIX = "erased-";

/** Audit targets that concern an account: itself, its override subjects, its keys, its consents. */
export function subjectTargets(accountId: string, keyIds: string[], consentIds: string[]): string[] {
  return [accountId, `account:${accountId}`, ...keyIds.map((id) => `key:${id}`), ...keyIds, ...consentIds];
}
