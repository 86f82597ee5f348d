import { and, eq, gt, inArray } from "drizzle-orm";
import type { Caller } from "../../caller/caller";
import { retainedPayloads } from "../../db/schema";
import type { SyncDb } from "../../db/sync-db";
import type { Logger } from "../../logging/logger";
import type { PayloadDecision, RequestSubject } from "../../privacy/payload-policy";
import type { PayloadContent, PayloadStore } from "../../privacy/payload-store";
import { changes } from "../../privacy/usage-rollup";

type Retaining = Exclude<PayloadDecision, { mode: "none" }>;
export type StoredResponse = Extract<PayloadContent, { kind: "response" }>;

/** Whether a caller's responses can be stored, and if not, why (said to the client). */
export type StorageState = { on: true; decision: Retaining } | { on: false; reason: string };

export interface ResponseStorageDeps {
  db: SyncDb;
  payloads: PayloadStore;
  /** The payload retention that applies to a subject (consent, overrides, `[retention] payloads`). */
  decide: (subject: RequestSubject | null) => PayloadDecision;
  logger: Logger;
  now?: () => number;
}

/**
 * Stored Responses API answers, as rows of the encrypted payload store: kept only where payload
 * retention is "full" for the caller (a row then names its account, so it can be scoped to it),
 * for the retention's days, and deleted by the same purge, consent revocation and erasure as
 * every other payload. Under zero data retention or anonymized retention nothing is stored.
 */
export function createResponseStorage(deps: ResponseStorageDeps) {
  const { db, payloads, logger } = deps;
  const now = deps.now ?? Date.now;
  const subjectOf = (caller: Caller): RequestSubject => ({ accountId: caller.account.id, keyId: caller.key.id });
  const ofCaller = (caller: Caller, requestId: string, kinds: ("response" | "generation")[]) =>
    and(eq(retainedPayloads.requestId, requestId), eq(retainedPayloads.accountId, caller.account.id), inArray(retainedPayloads.kind, kinds));

  return {
    state(caller: Caller): StorageState {
      const decision = deps.decide(subjectOf(caller));
      if (decision.mode === "none") return { on: false, reason: "storage is off by the retention policy (zero data retention)" };
      if (decision.mode === "anonymized") return { on: false, reason: "storage is off by the retention policy (payloads are kept anonymized, linked to no account)" };
      if (!payloads.canCapture) return { on: false, reason: "storage is off: payload retention applies but no [retention] payload key is configured" };
      return { on: true, decision };
    },

    /** Keeps one answer; a failed write is logged by class only and never fails the request. */
    save(caller: Caller, decision: Retaining, meta: { requestId: string; model: string }, content: Omit<StoredResponse, "kind">) {
      try {
        payloads.capture(decision, { ...meta, subject: subjectOf(caller) }, { kind: "response", ...content });
      } catch (error) {
        logger.error({ requestId: meta.requestId, err: { type: (error as Error)?.name ?? typeof error } }, "response storage write failed");
      }
    },

    /** The caller's account's stored answer for a request id, unexpired; null when there is none it may see. */
    find(caller: Caller, requestId: string): StoredResponse | null {
      const row = db
        .select()
        .from(retainedPayloads)
        .where(and(ofCaller(caller, requestId, ["response"]), gt(retainedPayloads.expiresAt, new Date(now()))))
        .get();
      if (row == null) return null;
      const content = payloads.open(row).content;
      return content?.kind === "response" ? content : null;
    },

    /** Deletes the stored answer and the payload kept of the same generation; false when there was none. */
    remove(caller: Caller, requestId: string): boolean {
      if (this.find(caller, requestId) == null) return false;
      return changes(db.delete(retainedPayloads).where(ofCaller(caller, requestId, ["response", "generation"])).run()) > 0;
    },
  };
}

export type ResponseStorage = ReturnType<typeof createResponseStorage>;
