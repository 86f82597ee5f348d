import type { RetainedPayloadRow } from "../../src/db/schema";

const DAY = Date.UTC(2027, 0, 10);

/** A retained payload row as the payload store writes it (the bytes stand in for ciphertext), account acct_a's by default. */
export const payload = (id: string, overrides: Partial<RetainedPayloadRow> = {}): RetainedPayloadRow => ({
  id,
  requestId: `req_${id}`,
  mode: "full",
  basis: "consent",
  purposes: ["debugging"],
  kind: "generation",
  model: "tiny",
  accountId: "acct_a",
  keyId: "key_a",
  consentId: null,
  createdAt: new Date(DAY),
  expiresAt: new Date(DAY + 7 * 86_400_000),
  keyFingerprint: "fp",
  nonce: Buffer.from([1, 2, 3]),
  ciphertext: Buffer.from([0, 255, 7, 128]),
  ...overrides,
});
