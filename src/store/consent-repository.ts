import type { AuditEntry } from "../audit/append-audit";
import type { PayloadMode } from "../config/payload-modes";
import type { ConsentRow, RetentionOverrideRow } from "../db/schema";
import type { AccountScope } from "./account-scope";

/** Whom a retention override is for: an account, or one key (seen through the key's account). */
export type OverrideTarget = { kind: "account"; id: string } | { kind: "key"; id: string };

/** The override row's key: "account:<id>" or "key:<id>". */
export const overrideSubject = (target: OverrideTarget) => `${target.kind}:${target.id}`;

/** What one request's payload decision reads: the account's active consent and the account's and key's overrides. */
export interface PolicyInputs {
  consent: ConsentRow | null;
  overrides: PayloadMode[];
}

/**
 * The consent aggregate: consent records and per-account/per-key retention overrides, on either
 * backend. Each change is written with its audit entry in one transaction, and each check that
 * guards a change (the account in scope, no other active consent, an override only stricter)
 * runs inside that transaction. `null` answers "nothing in scope by that id".
 */
export interface ConsentRepository {
  policy(subject: { accountId: string; keyId: string }): Promise<PolicyInputs>;
  /** Records `consent` unless the (live, in scope) account already has an active one, which is then returned instead. */
  record(scope: AccountScope, consent: ConsentRow, audit: AuditEntry): Promise<{ recorded: ConsentRow } | { active: ConsentRow } | null>;
  /** A live account's consents, revoked ones included, oldest first. */
  list(scope: AccountScope, accountId: string): Promise<ConsentRow[] | null>;
  /**
   * Revokes a consent and deletes every payload kept under it: full rows by consent id,
   * anonymized ones through their request's metering row. A consent already revoked comes back
   * as it is, with nothing deleted and nothing audited.
   */
  revoke(
    consentId: string,
    revoked: { by: string; at: Date },
    audit: (consent: ConsentRow, payloadsDeleted: number) => AuditEntry,
  ): Promise<{ consent: ConsentRow; payloadsDeleted: number } | null>;
  /**
   * Sets an override for a live account or any key whose account is in scope. `allow` sees the
   * mode the target's account has consented to (null: none) and throws to refuse the change.
   */
  setOverride(
    scope: AccountScope,
    target: OverrideTarget,
    change: Pick<RetentionOverrideRow, "payloads" | "setBy" | "setAt">,
    allow: (consentMode: PayloadMode | null) => void,
    audit: AuditEntry,
  ): Promise<RetentionOverrideRow | null>;
  /** Removes an override; whether there was one (audited only then). */
  clearOverride(scope: AccountScope, target: OverrideTarget, audit: AuditEntry, at: Date): Promise<boolean | null>;
  /** The overrides and active consents in scope (oldest first), and how many payloads are kept in all. */
  summary(scope: AccountScope): Promise<{ overrides: RetentionOverrideRow[]; activeConsents: ConsentRow[]; retainedPayloads: number }>;
}

/**
 * Whether an override's subject is in scope: an account override by its account id, a key
 * override through its key's account (a key that no longer exists hides its override).
 */
export function visibleSubject(subject: string, keyAccounts: Map<string, string>, scope: AccountScope, visible: Set<string>): boolean {
  const [kind, id] = subject.split(":", 2) as [string, string];
  const accountId = kind === "account" ? id : keyAccounts.get(id);
  return accountId != null && (scope.kind === "all" || visible.has(accountId));
}
