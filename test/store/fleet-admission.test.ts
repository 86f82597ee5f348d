import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { configSchema } from "../../src/config/schema";
import type { ApiKeyRow } from "../../src/db/schema";
import { createAdmission } from "../../src/limits/admission";
import { createPgConcurrencyLimiter } from "../../src/limits/pg-concurrency-limiter";
import { createPgRateWindows } from "../../src/limits/pg-rate-windows";
import { createPgAccountRepository } from "../../src/store/pg-account-repository";
import { createPgUsageRepository } from "../../src/store/pg-usage-repository";
import { eventually, pgLimitsStore } from "../support/pg-limits-store";
import { reachablePostgres } from "../support/pg-test-database";
import { accountRow, keyRow } from "../support/store-rows";

const serverUrl = await reachablePostgres();
const T = Date.parse("2030-03-01T12:00:00Z");

const account = accountRow("acct_fleet", new Date(T), { name: "fleet" });
const keyWith = (limits: Partial<Pick<ApiKeyRow, "concurrency" | "rpm" | "tpm">>) => keyRow("key_fleet", account.id, new Date(T), { name: "fleet", ...limits });

describe.skipIf(serverUrl == null)("admission on two nodes sharing a Postgres store", () => {
  let store: Awaited<ReturnType<typeof pgLimitsStore>>;
  let limiters: ReturnType<typeof createPgConcurrencyLimiter>[];
  const now = () => T;
  /** One node: its own connection pool, limiter, windows and account reads. */
  const node = () => {
    const db = store.node();
    const limiter = createPgConcurrencyLimiter({ db, now });
    limiters.push(limiter);
    const windows = { requests: createPgRateWindows(db, "requests"), tokens: createPgRateWindows(db, "tokens") };
    return createAdmission({ limits: configSchema.parse({}).limits, currency: "USD", accounts: createPgAccountRepository(db), usage: createPgUsageRepository(db), now, limiter, windows });
  };
  beforeEach(async () => {
    store = await pgLimitsStore(serverUrl!);
    limiters = [];
  });
  afterEach(async () => {
    for (const limiter of limiters) await limiter[Symbol.asyncDispose]();
    await store[Symbol.asyncDispose]();
  });

  test("Should hold a key's rpm across both nodes - the request over it is refused on whichever node it reaches", async () => {
    const [a, b] = [node(), node()];
    const key = keyWith({ rpm: 3, concurrency: 10 });
    for (const admission of [a, b, a]) (await admission.admit({ key, account })).lease.release();
    expect(a.headers(key)["x-ratelimit-remaining-requests"]).toBe("0");
    const refused = await b.admit({ key, account }).catch((e) => e);
    expect(refused).toMatchObject({ status: 429, code: "rate_limit_requests" });
    expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(60);
    expect(b.headers(key)).toMatchObject({ "x-ratelimit-limit-requests": "3", "x-ratelimit-remaining-requests": "0" });
  });

  test("Should count tokens recorded on node A against tpm on node B", async () => {
    const [a, b] = [node(), node()];
    const key = keyWith({ tpm: 40 });
    const admitted = await a.admit({ key, account });
    admitted.lease.release();
    admitted.recordTokens(50);
    await eventually(async () => (await b.admit({ key, account }).then((next) => (next.lease.release(), false)).catch((e) => e.code === "rate_limit_tokens")));
    expect(b.headers(key)["x-ratelimit-remaining-tokens"]).toBe("0");
  });

  test("Should queue a request on node B while node A holds the key's only slot - and admit it when A's request ends", async () => {
    const [a, b] = [node(), node()];
    const key = keyWith({ concurrency: 1 });
    const held = await a.admit({ key, account });
    let admitted = false;
    const waiting = b.admit({ key, account }).then((next) => ((admitted = true), next));
    await eventually(async () => (await a.limiter.stats(key.id)).keyQueued === 1);
    expect(admitted).toBe(false);
    held.lease.release();
    (await waiting).lease.release();
    expect(admitted).toBe(true);
  });
});
