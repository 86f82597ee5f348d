import { randomUUID } from "node:crypto";
import type { RetainedPayloadRow } from "../db/schema";
import type { ChatMessage, FinishReason, GenerationInput, ToolCall } from "../inference/types";
import type { PayloadRepository } from "../store/payload-repository";
import type { PayloadDecision, RequestSubject } from "./payload-policy";
import type { RetentionKey } from "./retention-key";

const DAY_MS = 86_400_000;

/** What a retained payload holds once decrypted. Only ever in memory. */
export type PayloadContent =
  | {
      kind: "generation";
      input: GenerationInput;
      /** Choice 0; with OpenAI's `n` > 1 the other choices follow in `alternatives`, in index order. */
      output: { text: string; toolCalls: ToolCall[]; finishReason: FinishReason; alternatives?: { text: string; toolCalls: ToolCall[]; finishReason: FinishReason }[] };
    }
  | { kind: "embedding"; inputs: string[] }
  | {
      /** A stored Responses API answer: the response object, its input items, and the conversation a `previous_response_id` continues. */
      kind: "response";
      response: Record<string, unknown>;
      inputItems: Record<string, unknown>[];
      history: ChatMessage[];
    };

export interface CaptureMeta {
  requestId: string;
  model: string;
  subject: RequestSubject | null;
}

/** A retained payload as export and draft-data see it: metadata plus the decrypted content. */
export interface OpenedPayload {
  id: string;
  request_id: string;
  mode: RetainedPayloadRow["mode"];
  basis: RetainedPayloadRow["basis"];
  purposes: string[];
  model: string;
  created_at: string;
  expires_at: string;
  content: PayloadContent | null;
  /** Why content is null: the key is missing or is not the one that encrypted it. */
  unreadable?: string;
}

/** Binds a ciphertext to its row, so a ciphertext moved to another row does not decrypt. */
const associatedData = (row: Pick<RetainedPayloadRow, "id" | "requestId" | "mode">) => `${row.id}\n${row.requestId}\n${row.mode}`;

/**
 * Writes payloads encrypted (AES-256-GCM) and reads them back. Plaintext exists only in memory:
 * the JSON is built, encrypted and dropped before the row goes to the repository; the store
 * (SQLite and its WAL, or Postgres) only ever sees ciphertext, never the key. In anonymized mode
 * the row carries no account, key or consent id.
 */
export function createPayloadStore(deps: { payloads: PayloadRepository; key: RetentionKey | null; now?: () => number }) {
  const { payloads, key } = deps;
  const now = deps.now ?? Date.now;

  return {
    get canCapture() {
      return key != null;
    },

    /** Stores one payload under a non-"none" decision; resolves with the new row's id. */
    async capture(decision: Exclude<PayloadDecision, { mode: "none" }>, meta: CaptureMeta, content: PayloadContent): Promise<string> {
      if (key == null) throw new Error("no retention key configured");
      const createdAt = now();
      const full = decision.mode === "full";
      const identity = { id: `pl_${randomUUID().replaceAll("-", "")}`, requestId: meta.requestId, mode: decision.mode };
      const { nonce, ciphertext } = key.encrypt(Buffer.from(JSON.stringify(content), "utf8"), associatedData(identity));
      await payloads.store({
        ...identity,
        basis: decision.basis,
        purposes: decision.purposes,
        kind: content.kind,
        model: meta.model,
        accountId: full ? (meta.subject?.accountId ?? null) : null,
        keyId: full ? (meta.subject?.keyId ?? null) : null,
        consentId: full ? decision.consentId : null,
        createdAt: new Date(createdAt),
        expiresAt: new Date(createdAt + decision.days * DAY_MS),
        keyFingerprint: key.fingerprint,
        nonce,
        ciphertext,
      });
      return identity.id;
    },

    open(row: RetainedPayloadRow): OpenedPayload {
      const base = {
        id: row.id,
        request_id: row.requestId,
        mode: row.mode,
        basis: row.basis,
        purposes: row.purposes,
        model: row.model,
        created_at: row.createdAt.toISOString(),
        expires_at: row.expiresAt.toISOString(),
      };
      if (key == null) return { ...base, content: null, unreadable: "no [retention] payload key configured" };
      if (key.fingerprint !== row.keyFingerprint) return { ...base, content: null, unreadable: `encrypted under another key (${row.keyFingerprint})` };
      try {
        return { ...base, content: JSON.parse(key.decrypt(row.nonce, row.ciphertext, associatedData(row)).toString("utf8")) as PayloadContent };
      } catch {
        return { ...base, content: null, unreadable: "ciphertext failed authentication" };
      }
    },
  };
}

export type PayloadStore = ReturnType<typeof createPayloadStore>;

/** The chat messages or prompt of a generation payload (for draft-data export). */
export function promptOf(input: GenerationInput): { messages: ChatMessage[] } | { prompt: string } {
  return input.kind === "chat" ? { messages: input.messages } : { prompt: input.prompt };
}
