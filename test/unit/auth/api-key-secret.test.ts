import { describe, expect, test } from "bun:test";
import { displayPrefix, generateKeySecret, hashesEqual, hashKeySecret, keyLookup } from "../../../src/auth/api-key-secret";
import { randomBase62 } from "../../../src/db/random-base62";

describe("API key secrets", () => {
  test("Should be enk_ and 43 base62 characters (32 random bytes) - and differ every time", () => {
    const secrets = Array.from({ length: 200 }, generateKeySecret);
    for (const secret of secrets) expect(secret).toMatch(/^enk_[0-9A-Za-z]{43}$/);
    expect(new Set(secrets).size).toBe(secrets.length);
  });

  test("Should encode every byte value at the same width", () => {
    for (let i = 0; i < 100; i++) expect(randomBase62(32)).toHaveLength(43);
    expect(randomBase62(12)).toHaveLength(17);
  });

  const lookups: [string, string, string | null][] = [
    ["a well-formed key", `enk_AbCdEfGh${"x".repeat(35)}`, "AbCdEfGh"],
    ["another vendor's prefix", `sk-_AbCdEfGh${"x".repeat(35)}`, null],
    ["one character short", `enk_${"x".repeat(42)}`, null],
    ["one character long", `enk_${"x".repeat(44)}`, null],
    ["a non-base62 character", `enk_${"x".repeat(42)}-`, null],
    ["the empty string", "", null],
  ];
  for (const [name, secret, expected] of lookups)
    test(`Should find the lookup prefix of ${name}: ${expected ?? "none"}`, () => expect(keyLookup(secret)).toBe(expected));

  test("Should hash with the pepper - same secret and pepper, same hash; another pepper, another hash", () => {
    const secret = generateKeySecret();
    const hash = hashKeySecret(secret, "pepper-1");
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hashKeySecret(secret, "pepper-1")).toBe(hash);
    expect(hashKeySecret(secret, "pepper-2")).not.toBe(hash);
    expect(hash).not.toContain(secret.slice(4, 12));
  });

  test("Should compare hashes exactly - a different or truncated hash is not equal", () => {
    const hash = hashKeySecret(generateKeySecret(), "");
    expect(hashesEqual(hash, hash)).toBe(true);
    expect(hashesEqual(hash, `${hash.slice(0, -1)}${hash.endsWith("0") ? "1" : "0"}`)).toBe(false);
    expect(hashesEqual(hash, hash.slice(0, 32))).toBe(false);
  });

  test("Should show only the lookup prefix", () => expect(displayPrefix("AbCdEfGh")).toBe("enk_AbCdEfGh…"));
});
