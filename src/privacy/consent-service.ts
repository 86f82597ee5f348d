import type { Actor } from "../accounts/actor";
import { ConflictError } from "../accounts/conflict-error";
import type { Config } from "../config/schema";
import type { PayloadMode } from "../config/payload-modes";
import type { ConsentRow, RetentionOverrideRow } from "../db/schema";
import { newId } from "../db/random-base62";
import { InvalidRequestError, NotFoundError, PermissionDeniedError } from "../errors";
import { accountScopeOf } from "../store/account-scope";
import { overrideSubject, type ConsentRepository, type OverrideTarget } from "../store/consent-repository";
import type { RecordConsentInput, RetentionOverrideInput } from "./consent-input";
import { stricter } from "./payload-policy";
import type { RetentionKey } from "./retention-key";

export interface ConsentServiceDeps {
  consents: ConsentRepository;
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

/**
 * Consent records and per-account/per-key retention overrides. Consent may only be recorded by an
 * admin, needs a configured retention key (payloads are only ever kept encrypted) and a window no
 * longer than metadata_detail_days (so an erasure can still find anonymized payloads through their
 * request's metering row). Revoking purges what was kept under it. Overrides may only be
 * stricter. Everything is audited; consent details in the audit log are ids and scope, never the
 * name of the person who consented.
 */
export function createConsentService(deps: ConsentServiceDeps) {
  const { consents, retention } = deps;
  const now = () => new Date((deps.now ?? Date.now)());

  function requireManager(actor: Actor) {
    if (actor.role === "user") throw new PermissionDeniedError("this key may not manage retention; it needs the admin or manager role");
  }

  function requireAdmin(actor: Actor, what: string) {
    if (actor.role !== "admin") throw new PermissionDeniedError(`only an admin may ${what}`);
  }

  const missing = (target: OverrideTarget) => new NotFoundError(target.kind === "account" ? `no account '${target.id}'` : `no key '${target.id}'`);

  /** A user key is refused before anything is read: 403 for an account, for a key the same 404 as a key it cannot see. */
  function checkTarget(actor: Actor, target: OverrideTarget) {
    if (target.kind === "account") requireManager(actor);
    else if (actor.role === "user") throw missing(target);
  }

  async function setOverride(actor: Actor, target: OverrideTarget, input: RetentionOverrideInput): Promise<RetentionOverrideRow> {
    checkTarget(actor, target);
    // What applies before overrides: the account's consent's mode, else the global mode.
    const allow = (consentMode: PayloadMode | null) => {
      const base = consentMode ?? retention.payloads;
      if (stricter(input.payloads, base) !== input.payloads)
        throw new InvalidRequestError(
          `an override can only be stricter than what applies (payloads = "${base}"); record the account's consent to keep more`,
          { param: "payloads", code: "override_not_stricter" },
        );
    };
    const change = { payloads: input.payloads, setBy: actor.id, setAt: now() };
    const audit = { actor: actor.id, action: "retention.override.set", target: overrideSubject(target), details: { payloads: input.payloads } };
    const row = await consents.setOverride(accountScopeOf(actor), target, change, allow, audit);
    if (row == null) throw missing(target);
    return row;
  }

  async function clearOverride(actor: Actor, target: OverrideTarget): Promise<boolean> {
    checkTarget(actor, target);
    const audit = { actor: actor.id, action: "retention.override.clear", target: overrideSubject(target) };
    const removed = await consents.clearOverride(accountScopeOf(actor), target, audit, now());
    if (removed == null) throw missing(target);
    return removed;
  }

  return {
    async record(actor: Actor, accountId: string, input: RecordConsentInput): Promise<ConsentRow> {
      requireAdmin(actor, "record consent");
      if (deps.key == null)
        throw new InvalidRequestError("payloads are only kept encrypted and no [retention] payload key is configured; set payload_key_file or ENCLAVE_RETENTION_PAYLOAD_KEY first", {
          code: "retention_key_missing",
        });
      if (input.retention_days > retention.metadata_detail_days)
        throw new InvalidRequestError(`retention_days is ${input.retention_days}; it may be at most metadata_detail_days (${retention.metadata_detail_days})`, {
          param: "retention_days",
        });
      const at = now();
      const row: ConsentRow = {
        id: newId("cns"),
        accountId,
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
      const audit = {
        actor: actor.id,
        action: "consent.record",
        target: accountId,
        details: { consent_id: row.id, mode: row.mode, purposes: row.purposes, retention_days: row.retentionDays },
      };
      const result = await consents.record(accountScopeOf(actor), row, audit);
      if (result == null) throw new NotFoundError(`no account '${accountId}'`);
      if ("active" in result) throw new ConflictError(`account '${accountId}' already has an active consent (${result.active.id}); revoke it first`);
      return result.recorded;
    },

    async list(actor: Actor, accountId: string): Promise<ConsentRow[]> {
      requireManager(actor);
      const rows = await consents.list(accountScopeOf(actor), accountId);
      if (rows == null) throw new NotFoundError(`no account '${accountId}'`);
      return rows;
    },

    /** Revokes a consent and deletes every payload kept under it (idempotent). */
    async revoke(actor: Actor, consentId: string): Promise<{ consent: ConsentRow; payloads_deleted: number }> {
      requireAdmin(actor, "revoke consent");
      const result = await consents.revoke(consentId, { by: actor.id, at: now() }, (row, deleted) => ({
        actor: actor.id,
        action: "consent.revoke",
        target: row.accountId,
        details: { consent_id: row.id, payloads_deleted: deleted },
      }));
      if (result == null) throw new NotFoundError(`no consent '${consentId}'`);
      return { consent: result.consent, payloads_deleted: result.payloadsDeleted };
    },

    setAccountOverride: (actor: Actor, accountId: string, input: RetentionOverrideInput) => setOverride(actor, { kind: "account", id: accountId }, input),
    clearAccountOverride: (actor: Actor, accountId: string) => clearOverride(actor, { kind: "account", id: accountId }),
    setKeyOverride: (actor: Actor, keyId: string, input: RetentionOverrideInput) => setOverride(actor, { kind: "key", id: keyId }, input),
    clearKeyOverride: (actor: Actor, keyId: string) => clearOverride(actor, { kind: "key", id: keyId }),

    /** The global policy and every override and consent the actor may see. */
    async summary(actor: Actor) {
      if (actor.role === "user") throw new PermissionDeniedError("this key may not read retention; it needs the admin or manager role");
      const { overrides, activeConsents, retainedPayloads } = await consents.summary(accountScopeOf(actor));
      return {
        object: "retention",
        payloads: retention.payloads,
        payload_days: retention.payload_days,
        metadata_detail_days: retention.metadata_detail_days,
        security_days: retention.security_days,
        audit_days: retention.audit_days,
        purge_interval_minutes: retention.purge_interval_minutes,
        payload_key: deps.key == null ? null : { fingerprint: deps.key.fingerprint },
        retained_payloads: actor.role === "admin" ? retainedPayloads : undefined,
        overrides: overrides.map(toOverrideView),
        active_consents: activeConsents.map(toConsentView),
      };
    },
  };
}

export type ConsentService = ReturnType<typeof createConsentService>;
