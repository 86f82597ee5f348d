import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/**
 * `bytes` random bytes written in base62, left-padded to the length that any value of that many
 * bytes needs, so every output of one size has the same length (32 bytes -> 43 characters).
 */
export function randomBase62(bytes: number): string {
  const width = Math.ceil((bytes * 8) / Math.log2(62));
  let value = BigInt(`0x${randomBytes(bytes).toString("hex")}`);
  let text = "";
  while (value > 0n) {
    text = ALPHABET[Number(value % 62n)] + text;
    value /= 62n;
  }
  return text.padStart(width, "0");
}

/** A short, unguessable, non-secret row id such as `key_3kT9sQ2mXw8bLp`. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBase62(12)}`;
}
