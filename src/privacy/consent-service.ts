import type { Database } from "bun:sqlite";
import { and, eq, inArray, isNull, or, sql } from "drizzle-orm";
import { canSee, visibleAccounts } from "../accounts/account-tree";
import type { Actor } from "../accounts/actor";
import { ConflictError } from "../accounts/conflict-error";
import { appendAudit } from "../audit/append-audit";
import { newId } from "../db/random-base62";
import type { Config } from "../config/schema";
import type { SyncDb } from "../db/sync-db";
import { accounts, apiKeys, consents, retainedPayloads, retentionOverrides, usageEvents, type ConsentRow, type RetentionOverrideRow } from "../db/schema";
import { InvalidRequestError, NotFoundError, PermissionDeniedError } from "../errors";
import type { RecordConsentInput, RetentionOverrideInput } from "./consent-input";
import type { PayloadMode } from "../config/payload-modes";
import { activeConsent, stricter } from "./payload-policy";
import { reclaimSpace } from "./reclaim-space";
import type { RetentionKey } from "./retention-key";
import { changes } from "./usage-rollup";

export interface ConsentServiceDeps {
  db: SyncDb;
  /** For reclaiming space after a revocation purged payloads. */
  sqlite?: Database;
  retention: Config["retention"];
  key: RetentionKey | null;
  now?: () => number;
}

export function toConsentView(row: ConsentRow) {
  return {
    id: row.id,
    object: "consent" as const,
    account_id: row.accountId,
    mode: row.mode,
    purposes: row.purposes,
    retention_days: row.retentionDays,
    granted_by: row.grantedBy,
    statement: row.statement,
    granted_at: row.grantedAt.toISOString(),
    recorded_by: row.recordedBy,
    recorded_at: row.recordedAt.toISOString(),
    revoked_at: row.revokedAt?.toISOString() ?? null,
    revoked_by: row.revokedBy,
  };
}

export function toOverrideView(row: RetentionOverrideRow) {
  const [kind, id] = row.subject.split(":", 2) as ["account" | "key", string];
  return { object: "retention_override" as const, [kind === "account" ? "account_id" : "key_id"]: id, payloads: row.payloads, set_by: row.setBy, set_at: row.setAt.toISOString() };
}

/** Deletes the payloads kept under an account's consent: full rows by consent id, anonymized rows through their request's metering row. */
export function deleteConsentPayloads(tx: SyncDb, consent: Pick<ConsentRow, "id" | "accountId">): number {
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
 * Consent records and per-account/per-key retention overrides. Consent may only be recorded by an
 * admin, needs a configured retention key (payloads are only ever kept encrypted) and a window no
 * longer than metadata_detail_days (so an erasure can still find anonymized payloads through their
 * request's metering row). Revoking purges what was kept under it. Overrides may only be
 * stricter. Everything is audited; consent details in the audit log are ids and scope, never the
 * name of the person who consented.
 */
export function createConsentService(deps: ConsentServiceDeps) {
  const { db, retention } = deps;
  const now = () => new Date((deps.now ?? Date.now)());

  function findAccount(tx: SyncDb, actor: Actor, id: string) {
    if (actor.role === "user") throw new PermissionDeniedError("this key may not manage retention; it needs the admin or manager role");
    const row = tx.select().from(accounts).where(and(eq(accounts.id, id), isNull(accounts.deletedAt))).get();
    if (row == null || !canSee(visibleAccounts(tx, actor), row.id)) throw new NotFoundError(`no account '${id}'`);
    return row;
  }

  function requireAdmin(actor: Actor, what: string) {
    if (actor.role !== "admin") throw new PermissionDeniedError(`only an admin may ${what}`);
  }

  /** What applies to an account before overrides: its consent's mode, else the global mode. */
  function baseMode(tx: SyncDb, accountId: string): PayloadMode {
    return activeConsent(tx, accountId)?.mode ?? retention.payloads;
  }

  function setOverride(tx: SyncDb, actor: Actor, subject: string, accountId: string, input: RetentionOverrideInput): RetentionOverrideRow {
    const base = baseMode(tx, accountId);
    if (stricter(input.payloads, base) !== input.payloads)
      throw new InvalidRequestError(
        `an override can only be stricter than what applies (payloads = "${base}"); record the account's consent to keep more`,
        { param: "payloads", code: "override_not_stricter" },
      );
    const row: RetentionOverrideRow = { subject, payloads: input.payloads, setBy: actor.id, setAt: now() };
    tx.insert(retentionOverrides).values(row).onConflictDoUpdate({ target: retentionOverrides.subject, set: { payloads: row.payloads, setBy: row.setBy, setAt: row.setAt } }).run();
    appendAudit(tx, { actor: actor.id, action: "retention.override.set", target: subject, details: { payloads: input.payloads } }, row.setAt);
    return row;
  }

  function clearOverride(tx: SyncDb, actor: Actor, subject: string): boolean {
    const removed = changes(tx.delete(retentionOverrides).where(eq(retentionOverrides.subject, subject)).run()) > 0;
    if (removed) appendAudit(tx, { actor: actor.id, action: "retention.override.clear", target: subject }, now());
    return removed;
  }

  function keyAccount(tx: SyncDb, actor: Actor, keyId: string): string {
    const key = tx.select({ accountId: apiKeys.accountId }).from(apiKeys).where(eq(apiKeys.id, keyId)).get();
    if (key == null || actor.role === "user" || !canSee(visibleAccounts(tx, actor), key.accountId)) throw new NotFoundError(`no key '${keyId}'`);
    return key.accountId;
  }

  return {
    record(actor: Actor, accountId: string, input: RecordConsentInput): ConsentRow {
      requireAdmin(actor, "record consent");
      if (deps.key == null)
        throw new InvalidRequestError("payloads are only kept encrypted and no [retention] payload key is configured; set payload_key_file or ENCLAVE_RETENTION_PAYLOAD_KEY first", {
          code: "retention_key_missing",
        });
      if (input.retention_days > retention.metadata_detail_days)
        throw new InvalidRequestError(`retention_days is ${input.retention_days}; it may be at most metadata_detail_days (${retention.metadata_detail_days})`, {
          param: "retention_days",
        });
      return db.transaction((tx) => {
        const account = findAccount(tx, actor, accountId);
        const active = activeConsent(tx, account.id);
        if (active != null) throw new ConflictError(`account '${account.id}' already has an active consent (${active.id}); revoke it first`);
        const at = now();
        const row: ConsentRow = {
          id: newId("cns"),
          accountId: account.id,
          mode: input.mode,
          purposes: [...new Set(input.purposes)],
          retentionDays: input.retention_days,
          grantedBy: input.granted_by,
          statement: input.statement,
          grantedAt: input.granted_at != null ? new Date(input.granted_at) : at,
          recordedBy: actor.id,
          recordedAt: at,
          revokedAt: null,
          revokedBy: null,
        };
        tx.insert(consents).values(row).run();
        appendAudit(
          tx,
          { actor: actor.id, action: "consent.record", target: account.id, details: { consent_id: row.id, mode: row.mode, purposes: row.purposes, retention_days: row.retentionDays } },
          at,
        );
        return row;
      });
    },

    list(actor: Actor, accountId: string): ConsentRow[] {
      const account = findAccount(db, actor, accountId);
      return db.select().from(consents).where(eq(consents.accountId, account.id)).orderBy(consents.recordedAt).all();
    },

    /** Revokes a consent and deletes every payload kept under it (idempotent). */
    revoke(actor: Actor, consentId: string): { consent: ConsentRow; payloads_deleted: number } {
      requireAdmin(actor, "revoke consent");
      const result = db.transaction((tx) => {
        const row = tx.select().from(consents).where(eq(consents.id, consentId)).get();
        if (row == null) throw new NotFoundError(`no consent '${consentId}'`);
        if (row.revokedAt != null) return { consent: row, payloads_deleted: 0 };
        const at = now();
        tx.update(consents).set({ revokedAt: at, revokedBy: actor.id }).where(eq(consents.id, row.id)).run();
        const deleted = deleteConsentPayloads(tx, row);
        appendAudit(tx, { actor: actor.id, action: "consent.revoke", target: row.accountId, details: { consent_id: row.id, payloads_deleted: deleted } }, at);
        return { consent: { ...row, revokedAt: at, revokedBy: actor.id }, payloads_deleted: deleted };
      });
      if (result.payloads_deleted > 0 && deps.sqlite != null) reclaimSpace(deps.sqlite);
      return result;
    },

    setAccountOverride(actor: Actor, accountId: string, input: RetentionOverrideInput) {
      return db.transaction((tx) => setOverride(tx, actor, `account:${findAccount(tx, actor, accountId).id}`, accountId, input));
    },
    clearAccountOverride(actor: Actor, accountId: string) {
      return db.transaction((tx) => clearOverride(tx, actor, `account:${findAccount(tx, actor, accountId).id}`));
    },
    setKeyOverride(actor: Actor, keyId: string, input: RetentionOverrideInput) {
      return db.transaction((tx) => setOverride(tx, actor, `key:${keyId}`, keyAccount(tx, actor, keyId), input));
    },
    clearKeyOverride(actor: Actor, keyId: string) {
      return db.transaction((tx) => (keyAccount(tx, actor, keyId), clearOverride(tx, actor, `key:${keyId}`)));
    },

    /** The global policy and every override and consent the actor may see. */
    summary(actor: Actor) {
      if (actor.role === "user") throw new PermissionDeniedError("this key may not read retention; it needs the admin or manager role");
      const visible = visibleAccounts(db, actor);
      const keyAccounts = new Map(db.select({ id: apiKeys.id, accountId: apiKeys.accountId }).from(apiKeys).all().map((key) => [key.id, key.accountId]));
      const overrides = db
        .select()
        .from(retentionOverrides)
        .all()
        .filter((row) => {
          const [kind, id] = row.subject.split(":", 2) as [string, string];
          const accountId = kind === "account" ? id : keyAccounts.get(id);
          return accountId != null && canSee(visible, accountId);
        });
      const active = db.select().from(consents).where(isNull(consents.revokedAt)).all().filter((row) => canSee(visible, row.accountId));
      const payloads = db.select({ n: sql<number>`count(*)` }).from(retainedPayloads).get()?.n ?? 0;
      return {
        object: "retention",
        payloads: retention.payloads,
        payload_days: retention.payload_days,
        metadata_detail_days: retention.metadata_detail_days,
        security_days: retention.security_days,
        audit_days: retention.audit_days,
        purge_interval_minutes: retention.purge_interval_minutes,
        payload_key: deps.key == null ? null : { fingerprint: deps.key.fingerprint },
        retained_payloads: actor.role === "admin" ? payloads : undefined,
        overrides: overrides.map(toOverrideView),
        active_consents: active.map(toConsentView),
      };
    },
  };
}

export type ConsentService = ReturnType<typeof createConsentService>;
