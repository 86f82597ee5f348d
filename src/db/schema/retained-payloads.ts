import { index, integer, sqliteTable, text, blob } from "drizzle-orm/sqlite-core";
import { RETAINING_MODES } from "../../config/payload-modes";

/**
 * Payloads (prompt, completion, tool calls) kept under `[retention] payloads = "anonymized" |
 * "full"` or an account's consent. Never plaintext: `ciphertext` is AES-256-GCM under a key that
 * lives outside SQLite (src/privacy/payload-cipher.ts). Anonymized rows carry no account or key
 * id, only the internal request id; full rows also name the account, key and consent. Deleted by
 * the purge when `expires_at` passes.
 */
export const retainedPayloads = sqliteTable(
  "retained_payloads",
  {
    id: text("id").primaryKey(),
    /** The internal request id (the usage_events id while request-level metadata is kept). */
    requestId: text("request_id").notNull(),
    mode: text("mode", { enum: RETAINING_MODES }).notNull(),
    /** "policy": the global [retention] mode; "consent": an account's recorded consent. */
    basis: text("basis", { enum: ["policy", "consent"] }).notNull(),
    /** JSON array of the purposes consented to (e.g. ["draft_training"]); [] under the policy. */
    purposes: text("purposes", { mode: "json" }).$type<string[]>().notNull(),
    /** "generation" | "embedding" | "response" (a Responses API answer kept because the client asked `store` where retention allows it). */
    kind: text("kind", { enum: ["generation", "embedding", "response"] }).notNull(),
    model: text("model").notNull(),
    /** Full mode only. */
    accountId: text("account_id"),
    keyId: text("key_id"),
    consentId: text("consent_id"),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
    /** Which key encrypted it (a fingerprint, not the key). */
    keyFingerprint: text("key_fingerprint").notNull(),
    nonce: blob("nonce", { mode: "buffer" }).notNull(),
    /** AES-256-GCM ciphertext with its 16-byte tag appended. */
    ciphertext: blob("ciphertext", { mode: "buffer" }).notNull(),
  },
  (table) => [
    index("retained_payloads_expires").on(table.expiresAt),
    index("retained_payloads_request").on(table.requestId),
    index("retained_payloads_account").on(table.accountId),
  ],
);

export type RetainedPayloadRow = typeof retainedPayloads.$inferSelect;
