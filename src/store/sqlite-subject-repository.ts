import type { Database } from "bun:sqlite";
import { and, asc, eq, gte, inArray, isNull } from "drizzle-orm";
import { appendAudit } from "../audit/append-audit";
import { accounts, apiKeys, auditLog, consents, retainedPayloads, retentionOverrides, usageDaily, usageEvents, usageSpend } from "../db/schema";
import type { SyncDb } from "../db/sync-db";
import { reclaimSpace } from "../privacy/reclaim-space";
import { changes, rollUpUsage } from "./sqlite-usage-rollup";
import { inAccountScope, type AccountScope } from "./account-scope";
import { sqlitePayloadsOf } from "./sqlite-payload-repository";
import { ERASED_NAME_PREFIX, subjectTargets, erasureCounts, type ErasureOutcome, type SubjectRepository } from "./subject-repository";

const findAccount = (db: SyncDb, scope: AccountScope, id: string) => db.select().from(accounts).where(and(eq(accounts.id, id), inAccountScope(scope, accounts.id))).get();

/** The data-subject aggregate on the embedded SQLite store; `sqlite`, when given, reclaims the space of what an erasure deleted. */
export function createSqliteSubjectRepository(db: SyncDb, sqlite?: Database): SubjectRepository {
  return {
    async export(scope, accountId, at, audit) {
      return db.transaction((tx) => {
        const account = findAccount(tx, scope, accountId);
        if (account == null) return null;
        const keys = tx.select().from(apiKeys).where(eq(apiKeys.accountId, account.id)).orderBy(asc(apiKeys.createdAt)).all();
        const keyIds = keys.map((key) => key.id);
        const accountConsents = tx.select().from(consents).where(eq(consents.accountId, account.id)).orderBy(asc(consents.recordedAt)).all();
        const records = {
          account,
          keys,
          requests: tx.select().from(usageEvents).where(eq(usageEvents.accountId, account.id)).orderBy(asc(usageEvents.startedAt)).all(),
          daily: tx.select().from(usageDaily).where(eq(usageDaily.accountId, account.id)).orderBy(asc(usageDaily.day)).all(),
          spend: tx.select().from(usageSpend).where(eq(usageSpend.accountId, account.id)).orderBy(asc(usageSpend.day), asc(usageSpend.keyId)).all(),
          consents: accountConsents,
          overrides: tx.select().from(retentionOverrides).where(inArray(retentionOverrides.subject, [`account:${account.id}`, ...keyIds.map((id) => `key:${id}`)])).all(),
          payloads: tx.select().from(retainedPayloads).where(sqlitePayloadsOf(tx, account.id)).orderBy(asc(retainedPayloads.createdAt)).all(),
          audit: tx.select().from(auditLog).where(inArray(auditLog.target, subjectTargets(account.id, keyIds, accountConsents.map((consent) => consent.id)))).orderBy(asc(auditLog.seq)).all(),
        };
        appendAudit(tx, audit(records), at);
        return records;
      });
    },

    async erase(scope, accountId, eraser, audit) {
      const outcome = db.transaction((tx): ErasureOutcome | null => {
        const account = findAccount(tx, scope, accountId);
        if (account == null) return null;
        if (eraser.accountId != null && tx.select({ id: accounts.id }).from(accounts).where(and(eq(accounts.id, eraser.accountId), inAccountScope({ kind: "tree", rootId: account.id }, accounts.id))).get() != null)
          return { refused: "own-account" };
        const child = tx.select({ id: accounts.id }).from(accounts).where(and(eq(accounts.parentId, account.id), isNull(accounts.deletedAt))).get();
        if (child != null) return { refused: "sub-accounts", child: child.id };
        const { at } = eraser;
        const keyIds = tx.select({ id: apiKeys.id }).from(apiKeys).where(eq(apiKeys.accountId, account.id)).all().map((key) => key.id);
        const keysRevoked = changes(tx.update(apiKeys).set({ revokedAt: at, updatedAt: at }).where(and(eq(apiKeys.accountId, account.id), isNull(apiKeys.revokedAt))).run());
        const payloadsDeleted = changes(tx.delete(retainedPayloads).where(sqlitePayloadsOf(tx, account.id)).run());
        const consentsRevoked = changes(
          tx.update(consents).set({ revokedAt: at, revokedBy: eraser.actor }).where(and(eq(consents.accountId, account.id), isNull(consents.revokedAt))).run(),
        );
        // The consent record stays as proof of what was consented to, without the person's name.
        tx.update(consents).set({ grantedBy: "(erased)" }).where(eq(consents.accountId, account.id)).run();
        const overridesRemoved = changes(
          tx.delete(retentionOverrides).where(inArray(retentionOverrides.subject, [`account:${account.id}`, ...keyIds.map((id) => `key:${id}`)])).run(),
        );
        const rolledUp = rollUpUsage(tx, eq(usageEvents.accountId, account.id));
        const erasedName = `${ERASED_NAME_PREFIX}${account.id}`;
        const renamed = account.name !== erasedName || account.deletedAt == null;
        if (renamed) tx.update(accounts).set({ name: erasedName, deletedAt: account.deletedAt ?? at, updatedAt: at }).where(eq(accounts.id, account.id)).run();
        tx.update(apiKeys).set({ name: "erased" }).where(eq(apiKeys.accountId, account.id)).run();
        const counts = erasureCounts(renamed, {
          keys_revoked: keysRevoked,
          payloads_deleted: payloadsDeleted,
          usage_rows_rolled_up: rolledUp,
          consents_revoked: consentsRevoked,
          overrides_removed: overridesRemoved,
        });
        appendAudit(tx, audit(counts), at);
        return { erased: { ...counts, space: null } };
      });
      if (outcome != null && "erased" in outcome && !outcome.erased.already_erased && sqlite != null) outcome.erased.space = reclaimSpace(sqlite);
      return outcome;
    },

    async lockedOut(owner, since) {
      const account = db.select({ deletedAt: accounts.deletedAt }).from(accounts).where(eq(accounts.id, owner.accountId)).get();
      if (account == null || account.deletedAt != null) return true;
      if (owner.keyId == null)
        return db.select({ id: apiKeys.id }).from(apiKeys).where(and(eq(apiKeys.accountId, owner.accountId), gte(apiKeys.revokedAt, since))).get() != null;
      const key = db.select({ revokedAt: apiKeys.revokedAt, accountId: apiKeys.accountId }).from(apiKeys).where(eq(apiKeys.id, owner.keyId)).get();
      return key == null || key.revokedAt != null || key.accountId !== owner.accountId;
    },
  };
}
