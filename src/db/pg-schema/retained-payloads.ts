import { customType, index, pgTable, text } from "drizzle-orm/pg-core";
import { RETAINING_MODES } from "../../config/payload-modes";
import { instant, jsonList } from "./columns";

const bytes = customType<{ data: Buffer; driverData: Uint8Array }>({
  dataType: () => "bytea",
  fromDriver: (value) => Buffer.from(value),
});

/** Postgres twin of src/db/schema/retained-payloads.ts: ciphertext only; the payload key never reaches the database. */
export const retainedPayloads = pgTable(
  "retained_payloads",
  {
    id: text("id").primaryKey(),
    requestId: text("request_id").notNull(),
    mode: text("mode", { enum: RETAINING_MODES }).notNull(),
    basis: text("basis", { enum: ["policy", "consent"] }).notNull(),
    purposes: jsonList("purposes").notNull(),
    kind: text("kind", { enum: ["generation", "embedding", "response"] }).notNull(),
    model: text("model").notNull(),
    accountId: text("account_id"),
    keyId: text("key_id"),
    consentId: text("consent_id"),
    createdAt: instant("created_at").notNull(),
    expiresAt: instant("expires_at").notNull(),
    keyFingerprint: text("key_fingerprint").notNull(),
    nonce: bytes("nonce").notNull(),
    ciphertext: bytes("ciphertext").notNull(),
  },
  (table) => [
    index("retained_payloads_expires").on(table.expiresAt),
    index("retained_payloads_request").on(table.requestId),
    index("retained_payloads_account").on(table.accountId),
  ],
);
