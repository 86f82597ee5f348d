import { toAccountView } from "../accounts/account-view";
import type { Actor } from "../accounts/actor";
import { ConflictError } from "../accounts/conflict-error";
import { toAuditView } from "../audit/list-audit";
import { toKeyView } from "../auth/key-view";
import { NotFoundError, PermissionDeniedError } from "../errors";
import { accountScopeOf } from "../store/account-scope";
import type { SubjectRepository } from "../store/subject-repository";
import { toConsentView, toOverrideView } from "./consent-service";
import type { PayloadStore } from "./payload-store";
import type { ReclaimReport } from "./reclaim-space";

export interface DataSubjectDeps {
  subjects: SubjectRepository;
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
  const { subjects, payloads } = deps;
  const now = () => new Date((deps.now ?? Date.now)());

  function requireManager(actor: Actor) {
    if (actor.role === "user") throw new PermissionDeniedError("this key may not export or erase accounts; it needs the admin or manager role");
  }

  return {
    async export(actor: Actor, accountId: string) {
      requireManager(actor);
      const at = now();
      const records = await subjects.export(accountScopeOf(actor), accountId, at, (found) => ({
        actor: actor.id,
        action: "account.export",
        target: found.account.id,
        details: { keys: found.keys.length, requests: found.requests.length, payloads: found.payloads.length },
      }));
      if (records == null) throw new NotFoundError(`no account '${accountId}'`);
      return {
        object: "account_export" as const,
        generated_at: at.toISOString(),
        account: toAccountView(records.account),
        keys: records.keys.map((key) => toKeyView(key)),
        usage: {
          requests: records.requests.map((row) => ({
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
          daily: records.daily.map((row) => ({
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
          spend: records.spend.map((row) => ({ day: row.day, key_id: row.keyId, tokens: row.tokens, cost_micros: row.costMicros })),
        },
        consents: records.consents.map(toConsentView),
        retention_overrides: records.overrides.map(toOverrideView),
        payloads: records.payloads.map(payloads.open),
        audit: records.audit.map(toAuditView),
      };
    },

    async erase(actor: Actor, accountId: string): Promise<ErasureReport> {
      requireManager(actor);
      const outcome = await subjects.erase(accountScopeOf(actor), accountId, { actor: actor.id, accountId: actor.accountId, at: now() }, (counts) => ({
        actor: actor.id,
        action: "account.erase",
        target: accountId,
        details: counts,
      }));
      if (outcome == null) throw new NotFoundError(`no account '${accountId}'`);
      if ("refused" in outcome) {
        if (outcome.refused === "own-account") throw new PermissionDeniedError("a key may not erase the account it belongs to (or one above it)");
        throw new ConflictError(`account '${accountId}' still has sub-accounts (e.g. '${outcome.child}'); erase or delete them first`);
      }
      return { object: "account_erasure", account_id: accountId, ...outcome.erased };
    },
  };
}

export type DataSubjectService = ReturnType<typeof createDataSubjectService>;
