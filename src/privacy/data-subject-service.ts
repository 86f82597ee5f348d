import type { Database } from "bun:sqlite";
import { and, asc, eq, inArray, isNull, or } from "drizzle-orm";
import { accountSubtree, canSee, visibleAccounts } from "../accounts/account-tree";
import { toAccountView } from "../accounts/account-view";
import type { Actor } from "../accounts/actor";
import { ConflictError } from "../accounts/conflict-error";
import { appendAudit } from "../audit/append-audit";
import { toAuditView } from "../audit/list-audit";
import { toKeyView } from "../auth/key-view";
import type { SyncDb } from "../db/sync-db";
import { accounts, apiKeys, auditLog, consents, retainedPayloads, retentionOverrides, usageDaily, usageEvents, type AccountRow } from "../db/schema";
import { NotFoundError, PermissionDeniedError } from "../errors";
import { toConsentView, toOverrideView } from "./consent-service";
import type { PayloadStore } from "./payload-store";
import { reclaimSpace, type ReclaimReport } from "./reclaim-space";
import { changes, rollUpUsage } from "./usage-rollup";

export interface DataSubjectDeps {
  db: SyncDb;
  sqlite?: Database;
  payloads: PayloadStore;
  now?: () => number;
}

export interface ErasureReport {
  object: "account_erasure";
  account_id: string;
  /** True when an earlier erasure had already removed everything (this call changed nothing). */
  already_erased: boolean;
  keys_revoked: number;
  payloads_deleted: number;
  usage_rows_rolled_up: number;
  consents_revoked: number;
  overrides_removed: number;
  space: ReclaimReport | null;
}

export const ERASED_NAME_PREFIX = "erased-";

/** Payloads of an account: full rows by account id, anonymized rows through their request's metering row. */
function payloadsOf(db: SyncDb, accountId: string) {
  const requests = db.select({ id: usageEvents.id }).from(usageEvents).where(eq(usageEvents.accountId, accountId));
  return or(eq(retainedPayloads.accountId, accountId), and(isNull(retainedPayloads.accountId), inArray(retainedPayloads.requestId, requests)));
}

/**
 * Data-subject rights for one account. Export: everything stored about it as JSON (account,
 * keys without secrets or hashes, request-level and daily usage, consents, overrides, retained
 * payloads decrypted, the audit entries about it). Erase: revoke its keys, delete its payloads,
 * fold its request-level metering into daily aggregates (kept for billing, no request ids,
 * timings or IPs), revoke its consent, drop its overrides, replace its and its keys' names, mark
 * it deleted; idempotent. Both are audited. The audit log itself is append-only and is not
 * rewritten: its entries carry ids and the names they had when written.
 */
export function createDataSubjectService(deps: DataSubjectDeps) {
  const { db, payloads } = deps;
  const now = () => new Date((deps.now ?? Date.now)());

  function find(tx: SyncDb, actor: Actor, id: string): AccountRow {
    if (actor.role === "user") throw new PermissionDeniedError("this key may not export or erase accounts; it needs the admin or manager role");
    const row = tx.select().from(accounts).where(eq(accounts.id, id)).get();
    if (row == null || !canSee(visibleAccounts(tx, actor), row.id)) throw new NotFoundError(`no account '${id}'`);
    return row;
  }

  return {
    export(actor: Actor, accountId: string) {
      const account = find(db, actor, accountId);
      const keys = db.select().from(apiKeys).where(eq(apiKeys.accountId, account.id)).orderBy(asc(apiKeys.createdAt)).all();
      const keyIds = keys.map((key) => key.id);
      const accountConsents = db.select().from(consents).where(eq(consents.accountId, account.id)).orderBy(asc(consents.recordedAt)).all();
      const subjects = [`account:${account.id}`, ...keyIds.map((id) => `key:${id}`)];
      const targets = [account.id, ...subjects, ...keyIds];
      const at = now();
      const document = {
        object: "account_export" as const,
        generated_at: at.toISOString(),
        account: toAccountView(account),
        keys: keys.map((key) => toKeyView(key)),
        usage: {
          requests: db
            .select()
            .from(usageEvents)
            .where(eq(usageEvents.accountId, account.id))
            .orderBy(asc(usageEvents.startedAt))
            .all()
            .map((row) => ({
              id: row.id,
              key_id: row.keyId,
              endpoint: row.endpoint,
              model: row.model,
              started_at: row.startedAt.toISOString(),
              queue_ms: row.queueMs,
              ttft_ms: row.ttftMs,
              duration_ms: row.durationMs,
              prompt_tokens: row.promptTokens,
              completion_tokens: row.completionTokens,
              cost_micros: row.costMicros,
              status: row.status,
              error_code: row.errorCode,
              client_ip: row.clientIp,
            })),
          daily: db
            .select()
            .from(usageDaily)
            .where(eq(usageDaily.accountId, account.id))
            .orderBy(asc(usageDaily.day))
            .all()
            .map((row) => ({
              day: row.day,
              key_id: row.keyId,
              endpoint: row.endpoint,
              model: row.model || null,
              requests: row.requests,
              errors: row.errors,
              prompt_tokens: row.promptTokens,
              completion_tokens: row.completionTokens,
              cost_micros: row.costMicros,
            })),
        },
        consents: accountConsents.map(toConsentView),
        retention_overrides: db.select().from(retentionOverrides).where(inArray(retentionOverrides.subject, subjects)).all().map(toOverrideView),
        payloads: db.select().from(retainedPayloads).where(payloadsOf(db, account.id)).orderBy(asc(retainedPayloads.createdAt)).all().map(payloads.open),
        audit: db
          .select()
          .from(auditLog)
          .where(inArray(auditLog.target, [...targets, ...accountConsents.map((consent) => consent.id)]))
          .orderBy(asc(auditLog.seq))
          .all()
          .map(toAuditView),
      };
      appendAudit(
        db,
        { actor: actor.id, action: "account.export", target: account.id, details: { keys: document.keys.length, requests: document.usage.requests.length, payloads: document.payloads.length } },
        at,
      );
      return document;
    },

    erase(actor: Actor, accountId: string): ErasureReport {
      const report = db.transaction((tx): ErasureReport => {
        const account = find(tx, actor, accountId);
        if (actor.accountId != null && accountSubtree(tx, account.id).includes(actor.accountId))
          throw new PermissionDeniedError("a key may not erase the account it belongs to (or one above it)");
        const child = tx.select({ id: accounts.id }).from(accounts).where(and(eq(accounts.parentId, account.id), isNull(accounts.deletedAt))).get();
        if (child != null) throw new ConflictError(`account '${account.id}' still has sub-accounts (e.g. '${child.id}'); erase or delete them first`);
        const at = now();
        const keyIds = tx.select({ id: apiKeys.id }).from(apiKeys).where(eq(apiKeys.accountId, account.id)).all().map((key) => key.id);
        const keysRevoked = changes(tx.update(apiKeys).set({ revokedAt: at, updatedAt: at }).where(and(eq(apiKeys.accountId, account.id), isNull(apiKeys.revokedAt))).run());
        const payloadsDeleted = changes(tx.delete(retainedPayloads).where(payloadsOf(tx, account.id)).run());
        const consentsRevoked = changes(
          tx.update(consents).set({ revokedAt: at, revokedBy: actor.id }).where(and(eq(consents.accountId, account.id), isNull(consents.revokedAt))).run(),
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
        const result: ErasureReport = {
          object: "account_erasure",
          account_id: account.id,
          already_erased: !renamed && keysRevoked + payloadsDeleted + rolledUp + consentsRevoked + overridesRemoved === 0,
          keys_revoked: keysRevoked,
          payloads_deleted: payloadsDeleted,
          usage_rows_rolled_up: rolledUp,
          consents_revoked: consentsRevoked,
          overrides_removed: overridesRemoved,
          space: null,
        };
        const { space: _space, object: _object, account_id: _id, ...counts } = result;
        appendAudit(tx, { actor: actor.id, action: "account.erase", target: account.id, details: counts }, at);
        return result;
      });
      if (!report.already_erased && deps.sqlite != null) report.space = reclaimSpace(deps.sqlite);
      return report;
    },
  };
}

export type DataSubjectService = ReturnType<typeof createDataSubjectService>;
