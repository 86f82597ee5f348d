import type { Database } from "bun:sqlite";
import { and, asc, eq, inArray, isNull, or, sql } from "drizzle-orm";
import { appendAudit } from "../audit/append-audit";
import { accounts, apiKeys, consents, retainedPayloads, retentionOverrides, usageEvents, type ConsentRow, type RetentionOverrideRow } from "../db/schema";
import type { SyncDb } from "../db/sync-db";
import { reclaimSpace } from "../privacy/reclaim-space";
import { changes } from "./sqlite-usage-rollup";
import { inAccountScope, type AccountScope } from "./account-scope";
import { preparedOnce } from "./prepared-once";
import { overrideSubject, visibleSubject, type ConsentRepository, type OverrideTarget } from "./consent-repository";

const activeConsent = (db: SyncDb, accountId: string): ConsentRow | null =>
  db.select().from(consents).where(and(eq(consents.accountId, accountId), isNull(consents.revokedAt))).get() ?? null;

const liveAccount = (db: SyncDb, scope: AccountScope, id: string): string | null =>
  db.select({ id: accounts.id }).from(accounts).where(and(eq(accounts.id, id), isNull(accounts.deletedAt), inAccountScope(scope, accounts.id))).get()?.id ?? null;

/** The account an override target belongs to, if in scope: a live account, or any key's account. */
function targetAccount(db: SyncDb, scope: AccountScope, target: OverrideTarget): string | null {
  if (target.kind === "account") return liveAccount(db, scope, target.id);
  return db.select({ accountId: apiKeys.accountId }).from(apiKeys).where(and(eq(apiKeys.id, target.id), inAccountScope(scope, apiKeys.accountId))).get()?.accountId ?? null;
}

/** Deletes the payloads kept under a consent: full rows by consent id, anonymized rows through their request's metering row. */
function deleteConsentPayloads(tx: SyncDb, consent: Pick<ConsentRow, "id" | "accountId">): number {
  const requestsOfAccount = tx.select({ id: usageEvents.id }).from(usageEvents).where(eq(usageEvents.accountId, consent.accountId));
  return changes(
    tx
      .delete(retainedPayloads)
      .where(
        or(
          eq(retainedPayloads.consentId, consent.id),
          and(eq(retainedPayloads.basis, "consent"), isNull(retainedPayloads.accountId), inArray(retainedPayloads.requestId, requestsOfAccount)),
        ),
      )
      .run(),
  );
}

/**
 * The consent aggregate on the embedded SQLite store. Each change is one synchronous (immediate)
 * transaction, so no other request's statements, nor another process's, run between a check and
 * its write; reads take no write lock. `sqlite`, when given, reclaims the space of payloads a
 * revocation deleted.
 */
export function createSqliteConsentRepository(db: SyncDb, sqlite?: Database): ConsentRepository {
  const activeConsentOf = preparedOnce(() =>
    db.select().from(consents).where(and(eq(consents.accountId, sql.placeholder("accountId")), isNull(consents.revokedAt))).prepare(),
  );
  const overridesOf = preparedOnce(() =>
    db
      .select({ payloads: retentionOverrides.payloads })
      .from(retentionOverrides)
      .where(inArray(retentionOverrides.subject, [sql.placeholder("account"), sql.placeholder("key")]))
      .prepare(),
  );
  return {
    async policy(subject) {
      return {
        consent: activeConsentOf().get({ accountId: subject.accountId }) ?? null,
        overrides: overridesOf()
          .all({ account: `account:${subject.accountId}`, key: `key:${subject.keyId}` })
          .map((row) => row.payloads),
      };
    },
    async record(scope, consent, audit) {
      return db.transaction((tx) => {
        if (liveAccount(tx, scope, consent.accountId) == null) return null;
        const active = activeConsent(tx, consent.accountId);
        if (active != null) return { active };
        tx.insert(consents).values(consent).run();
        appendAudit(tx, audit, consent.recordedAt);
        return { recorded: consent };
      });
    },
    async list(scope, accountId) {
      return liveAccount(db, scope, accountId) == null ? null : db.select().from(consents).where(eq(consents.accountId, accountId)).orderBy(asc(consents.recordedAt)).all();
    },
    async revoke(consentId, revoked, audit) {
      const result = db.transaction((tx) => {
        const row = tx.select().from(consents).where(eq(consents.id, consentId)).get();
        if (row == null) return null;
        if (row.revokedAt != null) return { consent: row, payloadsDeleted: 0 };
        tx.update(consents).set({ revokedAt: revoked.at, revokedBy: revoked.by }).where(eq(consents.id, row.id)).run();
        const payloadsDeleted = deleteConsentPayloads(tx, row);
        const consent = { ...row, revokedAt: revoked.at, revokedBy: revoked.by };
        appendAudit(tx, audit(consent, payloadsDeleted), revoked.at);
        return { consent, payloadsDeleted };
      });
      if (result != null && result.payloadsDeleted > 0 && sqlite != null) reclaimSpace(sqlite);
      return result;
    },
    async setOverride(scope, target, change, allow, audit) {
      return db.transaction((tx) => {
        const accountId = targetAccount(tx, scope, target);
        if (accountId == null) return null;
        allow(activeConsent(tx, accountId)?.mode ?? null);
        const row: RetentionOverrideRow = { subject: overrideSubject(target), ...change };
        tx.insert(retentionOverrides).values(row).onConflictDoUpdate({ target: retentionOverrides.subject, set: change }).run();
        appendAudit(tx, audit, change.setAt);
        return row;
      });
    },
    async clearOverride(scope, target, audit, at) {
      return db.transaction((tx) => {
        if (targetAccount(tx, scope, target) == null) return null;
        const removed = changes(tx.delete(retentionOverrides).where(eq(retentionOverrides.subject, overrideSubject(target))).run()) > 0;
        if (removed) appendAudit(tx, audit, at);
        return removed;
      });
    },
    async summary(scope) {
      const keyAccounts = new Map(db.select({ id: apiKeys.id, accountId: apiKeys.accountId }).from(apiKeys).all().map((key) => [key.id, key.accountId]));
      const visible = new Set(db.select({ id: accounts.id }).from(accounts).where(inAccountScope(scope, accounts.id)).all().map((row) => row.id));
      return {
        overrides: db.select().from(retentionOverrides).orderBy(asc(retentionOverrides.setAt)).all().filter((row) => visibleSubject(row.subject, keyAccounts, scope, visible)),
        activeConsents: db.select().from(consents).where(and(isNull(consents.revokedAt), inAccountScope(scope, consents.accountId))).orderBy(asc(consents.recordedAt)).all(),
        retainedPayloads: db.select({ n: sql<number>`count(*)` }).from(retainedPayloads).get()?.n ?? 0,
      };
    },
  };
}
