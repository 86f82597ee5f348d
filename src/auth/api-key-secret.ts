import { createHmac, timingSafeEqual } from "node:crypto";
import { randomBase62 } from "../db/random-base62";

export const KEY_PREFIX = "enk_";
const SECRET_BYTES = 32;
const BODY_LENGTH = 43; // 32 bytes in base62
const LOOKUP_LENGTH = 8;
const SECRET_PATTERN = new RegExp(`^${KEY_PREFIX}[0-9A-Za-z]{${BODY_LENGTH}}$`);

/** A new key secret: `enk_` + 32 random bytes in base62. Shown once; only its hash is stored. */
export function generateKeySecret(): string {
  return KEY_PREFIX + randomBase62(SECRET_BYTES);
}

/**
 * The few leading characters of the random part used to find a key's row (and shown, as
 * `enk_AbCd1234…`, to tell keys apart). 8 of 43 characters: the other ~208 bits stay secret.
 * Null when the text is not shaped like a key at all.
 */
export function keyLookup(secret: string): string | null {
  return SECRET_PATTERN.test(secret) ? secret.slice(KEY_PREFIX.length, KEY_PREFIX.length + LOOKUP_LENGTH) : null;
}

export function displayPrefix(lookup: string): string {
  return `${KEY_PREFIX}${lookup}…`;
}

/**
 * What is stored for a secret: HMAC-SHA-256 keyed by the server's pepper, hex. The pepper makes a
 * stolen database useless without the config; with no pepper it is plain SHA-256 of the secret
 * under an empty key, still irreversible for a 256-bit random secret.
 */
export function hashKeySecret(secret: string, pepper: string): string {
  return createHmac("sha256", pepper).update(secret).digest("hex");
}

/** Constant-time comparison of two hex hashes. */
export function hashesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, "hex");
  const right = Buffer.from(b, "hex");
  return left.length === right.length && timingSafeEqual(left, right);
}
