import { and, asc, eq, inArray, isNull, or, sql } from "drizzle-orm";
import type { PgDb, PgTx } from "../db/pg-client";
import { accounts, apiKeys, consents, retainedPayloads, retentionOverrides, usageEvents } from "../db/pg-schema";
import type { ConsentRow, RetentionOverrideRow } from "../db/schema";
import { inAccountScope, type AccountScope } from "./account-scope";
import { overrideSubject, visibleSubject, type ConsentRepository, type OverrideTarget } from "./consent-repository";
import { appendPgAudit, lockAuditChain } from "./pg-audit-repository";

async function activeConsent(tx: PgTx, accountId: string): Promise<ConsentRow | null> {
  const [row] = await tx.select().from(consents).where(and(eq(consents.accountId, accountId), isNull(consents.revokedAt))).limit(1);
  return row ?? null;
}

/** The live account in scope. */
async function liveAccount(tx: PgTx, scope: AccountScope, id: string): Promise<string | null> {
  const [row] = await tx.select({ id: accounts.id }).from(accounts).where(and(eq(accounts.id, id), isNull(accounts.deletedAt), inAccountScope(scope, accounts.id)));
  return row?.id ?? null;
}

/** The account an override target belongs to, if in scope: a live account, or any key's account. */
async function targetAccount(tx: PgTx, scope: AccountScope, target: OverrideTarget): Promise<string | null> {
  if (target.kind === "account") return liveAccount(tx, scope, target.id);
  const [key] = await tx.select({ accountId: apiKeys.accountId }).from(apiKeys).where(and(eq(apiKeys.id, target.id), inAccountScope(scope, apiKeys.accountId)));
  return key?.accountId ?? null;
}

/** Deletes the payloads kept under a consent: full rows by consent id, anonymized rows through their request's metering row. */
async function deletePgConsentPayloads(tx: PgTx, consent: Pick<ConsentRow, "id" | "accountId">): Promise<number> {
  const requestsOfAccount = tx.select({ id: usageEvents.id }).from(usageEvents).where(eq(usageEvents.accountId, consent.accountId));
  const deleted = await tx
    .delete(retainedPayloads)
    .where(
      or(
        eq(retainedPayloads.consentId, consent.id),
        and(eq(retainedPayloads.basis, "consent"), isNull(retainedPayloads.accountId), inArray(retainedPayloads.requestId, requestsOfAccount)),
      ),
    )
    .returning({ id: retainedPayloads.id });
  return deleted.length;
}

/**
 * The consent aggregate on the shared Postgres store. Each change takes the audit chain lock
 * before it reads anything (see lockAuditChain), so changes from every node run one at a time:
 * the check a change makes (no other active consent, the consented mode an override must be
 * stricter than) sees every change committed before it. Its entry is appended in the same
 * transaction.
 */
export function createPgConsentRepository(db: PgDb): ConsentRepository {
  return {
    // Two reads side by side, not a transaction: this runs before every request's generation.
    async policy(subject) {
      const [[consent], overrides] = await Promise.all([
        db.select().from(consents).where(and(eq(consents.accountId, subject.accountId), isNull(consents.revokedAt))).limit(1),
        db.select({ payloads: retentionOverrides.payloads }).from(retentionOverrides).where(inArray(retentionOverrides.subject, [`account:${subject.accountId}`, `key:${subject.keyId}`])),
      ]);
      return { consent: consent ?? null, overrides: overrides.map((row) => row.payloads) };
    },
    record: (scope, consent, audit) =>
      db.transaction(async (tx) => {
        await lockAuditChain(tx);
        if ((await liveAccount(tx, scope, consent.accountId)) == null) return null;
        const active = await activeConsent(tx, consent.accountId);
        if (active != null) return { active };
        await tx.insert(consents).values(consent);
        await appendPgAudit(tx, audit, consent.recordedAt);
        return { recorded: consent };
      }),
    list: (scope, accountId) =>
      db.transaction(async (tx) => {
        return (await liveAccount(tx, scope, accountId)) == null ? null : tx.select().from(consents).where(eq(consents.accountId, accountId)).orderBy(asc(consents.recordedAt));
      }),
    revoke: (consentId, revoked, audit) =>
      db.transaction(async (tx) => {
        await lockAuditChain(tx);
        const [row] = await tx.select().from(consents).where(eq(consents.id, consentId));
        if (row == null) return null;
        if (row.revokedAt != null) return { consent: row, payloadsDeleted: 0 };
        await tx.update(consents).set({ revokedAt: revoked.at, revokedBy: revoked.by }).where(eq(consents.id, row.id));
        const payloadsDeleted = await deletePgConsentPayloads(tx, row);
        const consent = { ...row, revokedAt: revoked.at, revokedBy: revoked.by };
        await appendPgAudit(tx, audit(consent, payloadsDeleted), revoked.at);
        return { consent, payloadsDeleted };
      }),
    setOverride: (scope, target, change, allow, audit) =>
      db.transaction(async (tx) => {
        await lockAuditChain(tx);
        const accountId = await targetAccount(tx, scope, target);
        if (accountId == null) return null;
        allow((await activeConsent(tx, accountId))?.mode ?? null);
        const row: RetentionOverrideRow = { subject: overrideSubject(target), ...change };
        await tx.insert(retentionOverrides).values(row).onConflictDoUpdate({ target: retentionOverrides.subject, set: change });
        await appendPgAudit(tx, audit, change.setAt);
        return row;
      }),
    clearOverride: (scope, target, audit, at) =>
      db.transaction(async (tx) => {
        await lockAuditChain(tx);
        if ((await targetAccount(tx, scope, target)) == null) return null;
        const removed = await tx.delete(retentionOverrides).where(eq(retentionOverrides.subject, overrideSubject(target))).returning({ subject: retentionOverrides.subject });
        if (removed.length > 0) await appendPgAudit(tx, audit, at);
        return removed.length > 0;
      }),
    summary: (scope) =>
      db.transaction(
        async (tx) => {
          const keyAccounts = new Map((await tx.select({ id: apiKeys.id, accountId: apiKeys.accountId }).from(apiKeys)).map((key) => [key.id, key.accountId]));
          const visible = new Set((await tx.select({ id: accounts.id }).from(accounts).where(inAccountScope(scope, accounts.id))).map((row) => row.id));
          const overrides = await tx.select().from(retentionOverrides).orderBy(asc(retentionOverrides.setAt));
          const [count] = await tx.select({ n: sql<string>`count(*)` }).from(retainedPayloads);
          return {
            overrides: overrides.filter((row) => visibleSubject(row.subject, keyAccounts, scope, visible)),
            activeConsents: await tx.select().from(consents).where(and(isNull(consents.revokedAt), inAccountScope(scope, consents.accountId))).orderBy(asc(consents.recordedAt)),
            retainedPayloads: Number(count?.n ?? 0),
          };
        },
        { isolationLevel: "repeatable read", accessMode: "read only" },
      ),
  };
}
