import { and, asc, eq, gte, inArray, isNull } from "drizzle-orm";
import type { PgDb, PgTx } from "../db/pg-client";
import { accounts, apiKeys, auditLog, consents, retainedPayloads, retentionOverrides, usageDaily, usageEvents, usageSpend } from "../db/pg-schema";
import { inAccountScope, type AccountScope } from "./account-scope";
import { lockAccountTree } from "./pg-account-repository";
import { appendPgAudit, lockAuditChain } from "./pg-audit-repository";
import { pgPayloadsOf, rollUpPgUsage } from "./pg-payload-repository";
import { ERASED_NAME_PREFIX, subjectTargets, erasureCounts, type ErasureOutcome, type SubjectRecords, type SubjectRepository } from "./subject-repository";

async function findAccount(tx: PgTx, scope: AccountScope, id: string) {
  const [row] = await tx.select().from(accounts).where(and(eq(accounts.id, id), inAccountScope(scope, accounts.id)));
  return row;
}

/**
 * The data-subject aggregate on the shared Postgres store. Both take the audit chain lock first:
 * consent, override, purge and other erasure writes wait, so an export reads the account's
 * privacy records as of one moment and an erasure's roll-up cannot fold rows the purge folds.
 */
export function createPgSubjectRepository(db: PgDb): SubjectRepository {
  return {
    export: (scope, accountId, at, audit) =>
      db.transaction(async (tx): Promise<SubjectRecords | null> => {
        await lockAuditChain(tx);
        const account = await findAccount(tx, scope, accountId);
        if (account == null) return null;
        const keys = await tx.select().from(apiKeys).where(eq(apiKeys.accountId, account.id)).orderBy(asc(apiKeys.createdAt));
        const keyIds = keys.map((key) => key.id);
        const accountConsents = await tx.select().from(consents).where(eq(consents.accountId, account.id)).orderBy(asc(consents.recordedAt));
        const records: SubjectRecords = {
          account,
          keys,
          requests: await tx.select().from(usageEvents).where(eq(usageEvents.accountId, account.id)).orderBy(asc(usageEvents.startedAt)),
          daily: await tx.select().from(usageDaily).where(eq(usageDaily.accountId, account.id)).orderBy(asc(usageDaily.day)),
          spend: await tx.select().from(usageSpend).where(eq(usageSpend.accountId, account.id)).orderBy(asc(usageSpend.day), asc(usageSpend.keyId)),
          consents: accountConsents,
          overrides: await tx.select().from(retentionOverrides).where(inArray(retentionOverrides.subject, [`account:${account.id}`, ...keyIds.map((id) => `key:${id}`)])),
          payloads: await tx.select().from(retainedPayloads).where(pgPayloadsOf(tx, account.id)).orderBy(asc(retainedPayloads.createdAt)),
          audit: await tx.select().from(auditLog).where(inArray(auditLog.target, subjectTargets(account.id, keyIds, accountConsents.map((consent) => consent.id)))).orderBy(asc(auditLog.seq)),
        };
        await appendPgAudit(tx, audit(records), at);
        return records;
      }),

    erase: (scope, accountId, eraser, audit) =>
      db.transaction(async (tx): Promise<ErasureOutcome | null> => {
        // An erasure revokes keys and marks accounts: it queues with key and account changes, taking their lock before the chain's, as they do (the other order could deadlock with them).
        await lockAccountTree(tx);
        await lockAuditChain(tx);
        const account = await findAccount(tx, scope, accountId);
        if (account == null) return null;
        if (eraser.accountId != null) {
          const [own] = await tx.select({ id: accounts.id }).from(accounts).where(and(eq(accounts.id, eraser.accountId), inAccountScope({ kind: "tree", rootId: account.id }, accounts.id)));
          if (own != null) return { refused: "own-account" };
        }
        const [child] = await tx.select({ id: accounts.id }).from(accounts).where(and(eq(accounts.parentId, account.id), isNull(accounts.deletedAt))).limit(1);
        if (child != null) return { refused: "sub-accounts", child: child.id };
        const { at } = eraser;
        const keyIds = (await tx.select({ id: apiKeys.id }).from(apiKeys).where(eq(apiKeys.accountId, account.id))).map((key) => key.id);
        const keysRevoked = (await tx.update(apiKeys).set({ revokedAt: at, updatedAt: at }).where(and(eq(apiKeys.accountId, account.id), isNull(apiKeys.revokedAt))).returning({ id: apiKeys.id })).length;
        const payloadsDeleted = (await tx.delete(retainedPayloads).where(pgPayloadsOf(tx, account.id)).returning({ id: retainedPayloads.id })).length;
        const consentsRevoked = (
          await tx.update(consents).set({ revokedAt: at, revokedBy: eraser.actor }).where(and(eq(consents.accountId, account.id), isNull(consents.revokedAt))).returning({ id: consents.id })
        ).length;
        // The consent record stays as proof of what was consented to, without the person's name.
        await tx.update(consents).set({ grantedBy: "(erased)" }).where(eq(consents.accountId, account.id));
        const overridesRemoved = (
          await tx.delete(retentionOverrides).where(inArray(retentionOverrides.subject, [`account:${account.id}`, ...keyIds.map((id) => `key:${id}`)])).returning({ subject: retentionOverrides.subject })
        ).length;
        const rolledUp = await rollUpPgUsage(tx, eq(usageEvents.accountId, account.id));
        const erasedName = `${ERASED_NAME_PREFIX}${account.id}`;
        const renamed = account.name !== erasedName || account.deletedAt == null;
        if (renamed) await tx.update(accounts).set({ name: erasedName, deletedAt: account.deletedAt ?? at, updatedAt: at }).where(eq(accounts.id, account.id));
        await tx.update(apiKeys).set({ name: "erased" }).where(eq(apiKeys.accountId, account.id));
        const counts = erasureCounts(renamed, {
          keys_revoked: keysRevoked,
          payloads_deleted: payloadsDeleted,
          usage_rows_rolled_up: rolledUp,
          consents_revoked: consentsRevoked,
          overrides_removed: overridesRemoved,
        });
        await appendPgAudit(tx, audit(counts), at);
        return { erased: { ...counts, space: null } };
      }),

    async lockedOut(owner, since) {
      const [account] = await db.select({ deletedAt: accounts.deletedAt }).from(accounts).where(eq(accounts.id, owner.accountId));
      if (account == null || account.deletedAt != null) return true;
      if (owner.keyId == null) {
        const [revoked] = await db.select({ id: apiKeys.id }).from(apiKeys).where(and(eq(apiKeys.accountId, owner.accountId), gte(apiKeys.revokedAt, since))).limit(1);
        return revoked != null;
      }
      const [key] = await db.select({ revokedAt: apiKeys.revokedAt, accountId: apiKeys.accountId }).from(apiKeys).where(eq(apiKeys.id, owner.keyId));
      return key == null || key.revokedAt != null || key.accountId !== owner.accountId;
    },
  };
}
