import type { Caller } from "../../caller/caller";
import type { Logger } from "../../logging/logger";
import type { PayloadDecision, RequestSubject } from "../../privacy/payload-policy";
import type { PayloadContent, PayloadStore } from "../../privacy/payload-store";
import type { PayloadRepository } from "../../store/payload-repository";

type Retaining = Exclude<PayloadDecision, { mode: "none" }>;
export type StoredResponse = Extract<PayloadContent, { kind: "response" }>;

/** Whether a caller's responses can be stored, and if not, why (said to the client). */
export type StorageState = { on: true; decision: Retaining } | { on: false; reason: string };

export interface ResponseStorageDeps {
  payloads: PayloadStore;
  /** The rows under `payloads`, for a caller's stored answers. */
  rows: Pick<PayloadRepository, "find" | "remove">;
  /** The payload retention that applies to a subject (consent, overrides, `[retention] payloads`). */
  decide: (subject: RequestSubject | null) => Promise<PayloadDecision>;
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
  const { payloads, rows, logger } = deps;
  const now = deps.now ?? Date.now;
  const subjectOf = (caller: Caller): RequestSubject => ({ accountId: caller.account.id, keyId: caller.key.id });
  const ofCaller = (caller: Caller, requestId: string, kinds: ("response" | "generation")[]) => ({ accountId: caller.account.id, requestId, kinds });

  return {
    async state(caller: Caller): Promise<StorageState> {
      const decision = await deps.decide(subjectOf(caller));
      if (decision.mode === "none") return { on: false, reason: "storage is off by the retention policy (zero data retention)" };
      if (decision.mode === "anonymized") return { on: false, reason: "storage is off by the retention policy (payloads are kept anonymized, linked to no account)" };
      if (!payloads.canCapture) return { on: false, reason: "storage is off: payload retention applies but no [retention] payload key is configured" };
      return { on: true, decision };
    },

    /** Keeps one answer; a failed write is logged by class only and never fails the request (nor does the client wait for it). */
    save(caller: Caller, decision: Retaining, meta: { requestId: string; model: string }, content: Omit<StoredResponse, "kind">) {
      payloads.capture(decision, { ...meta, subject: subjectOf(caller) }, { kind: "response", ...content }).catch((error: unknown) => {
        logger.error({ requestId: meta.requestId, err: { type: (error as Error)?.name ?? typeof error } }, "response storage write failed");
      });
    },

    /** The caller's account's stored answer for a request id, unexpired; null when there is none it may see. */
    async find(caller: Caller, requestId: string): Promise<StoredResponse | null> {
      const row = await rows.find(ofCaller(caller, requestId, ["response"]), new Date(now()));
      if (row == null) return null;
      const content = payloads.open(row).content;
      return content?.kind === "response" ? content : null;
    },

    /** Deletes the stored answer and the payload kept of the same generation; false when there was none. */
    async remove(caller: Caller, requestId: string): Promise<boolean> {
      if ((await this.find(caller, requestId)) == null) return false;
      return (await rows.remove(ofCaller(caller, requestId, ["response", "generation"]))) > 0;
    },
  };
}

export type ResponseStorage = ReturnType<typeof createResponseStorage>;
