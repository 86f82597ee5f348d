import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { UsageEvent } from "../../src/metering/usage-recorder";
import { storeBackends, type StoreBackend } from "./store-backends";

const backends = await storeBackends();
const DAY = Date.UTC(2027, 0, 10);

function usageEvent(id: string, overrides: Partial<UsageEvent> = {}): UsageEvent {
  return {
    id,
    keyId: "key_a",
    accountId: "acct_a",
    endpoint: "POST /v1/chat/completions",
    model: "tiny",
    startedAt: new Date(DAY + 3_600_000),
    queueMs: 1,
    ttftMs: 2,
    durationMs: 3,
    promptTokens: 10,
    cachedTokens: 0,
    completionTokens: 5,
    draftTokensAccepted: null,
    costMicros: 0,
    status: 200,
    errorCode: null,
    clientIp: null,
    ...overrides,
  };
}

for (const { name, open } of backends) {
  describe(`store contract on ${name}`, () => {
    let store: StoreBackend;
    beforeEach(async () => {
      store = await open();
      await store.seedAccount({ id: "acct_a", creditsMicros: 1_000 });
      await store.seedAccount({ id: "acct_b", creditsMicros: null });
      await store.seedKey({ id: "key_a", accountId: "acct_a" });
      await store.seedKey({ id: "key_b", accountId: "acct_b" });
    });
    afterEach(async () => {
      await store[Symbol.asyncDispose]();
    });

    test("Should link each audit entry to the one before it - and verify the chain", async () => {
      const first = await store.audit.append({ actor: "cli:ann", action: "key.create", target: "key_a", details: { name: "a" } }, new Date(DAY));
      const second = await store.audit.append({ actor: "key:key_a", action: "account.update", target: "acct_a" }, new Date(DAY + 1));
      expect(first.seq).toBe(1);
      expect(second).toMatchObject({ seq: 2, prevHash: first.hash });
      const report = await store.audit.verify(null);
      expect(report).toMatchObject({ ok: true, entries: 2, first_seq: 1, last_seq: 2, head_hash: second.hash, problems: [] });
    });

    test("Should filter the audit list by actor, action prefix and seq - newest first unless asked", async () => {
      for (const [actor, action] of [["cli:ann", "key.create"], ["cli:bob", "key.revoke"], ["cli:ann", "account.create"]] as const)
        await store.audit.append({ actor, action, target: "t" }, new Date(DAY));
      const page = { limit: 100, order: "desc" } as const;
      expect((await store.audit.list(page)).map((row) => row.seq)).toEqual([3, 2, 1]);
      expect((await store.audit.list({ ...page, action: "key." })).map((row) => row.action)).toEqual(["key.revoke", "key.create"]);
      expect((await store.audit.list({ ...page, actor: "cli:ann", order: "asc" })).map((row) => row.seq)).toEqual([1, 3]);
      expect((await store.audit.list({ ...page, after_seq: 2 })).map((row) => row.seq)).toEqual([3]);
      expect((await store.audit.list({ ...page, since: new Date(DAY + 1).toISOString() }))).toEqual([]);
      expect((await store.audit.list(page))[0]!.details).toEqual({});
    });

    test("Should keep the chain linear with two nodes appending at once - seqs 1..N, each linked to the one before", async () => {
      const other = store.otherNode();
      const writes = Array.from({ length: 30 }, (_, i) =>
        (i % 2 === 0 ? store : other).audit.append({ actor: `cli:${i % 2}`, action: "key.update", target: `key_${i}` }, new Date(DAY + i)),
      );
      const rows = await Promise.all(writes);
      expect(rows.map((row) => row.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      expect(await store.audit.verify(null)).toMatchObject({ ok: true, entries: 30 });
    });

    test("Should refuse to edit or delete an audit entry in the database itself - append-only below the application", async () => {
      await store.audit.append({ actor: "cli:ann", action: "key.create", target: "key_a" }, new Date(DAY));
      await expect(store.exec("update audit_log set actor = 'cli:eve'")).rejects.toThrow();
      await expect(store.exec("delete from audit_log")).rejects.toThrow();
      expect((await store.audit.list({ limit: 10, order: "asc" }))[0]!.actor).toBe("cli:ann");
    });

    test("Should store a request's usage once - a repeated request id charges no credits and stores no second row", async () => {
      expect(await store.usage.record(usageEvent("req_1", { costMicros: 300 }))).toBe(true);
      expect(await store.usage.record(usageEvent("req_1", { costMicros: 300 }))).toBe(false);
      expect(await store.credits("acct_a")).toBe(700);
      expect(await store.lastUsedAt("key_a")).toEqual(new Date(DAY + 3_600_000));
      expect((await store.usage.aggregate({}, ["key"])).map((row) => row.requests)).toEqual([1]);
    });

    test("Should take a sub-account's cost from every wallet above it too - a parent's credits bound its subtree", async () => {
      await store.seedAccount({ id: "acct_mid", creditsMicros: null, parentId: "acct_a" });
      await store.seedAccount({ id: "acct_leaf", creditsMicros: 500, parentId: "acct_mid" });
      await store.seedKey({ id: "key_leaf", accountId: "acct_leaf" });
      await store.usage.record(usageEvent("req_leaf", { keyId: "key_leaf", accountId: "acct_leaf", costMicros: 200 }));
      expect([await store.credits("acct_a"), await store.credits("acct_mid"), await store.credits("acct_leaf"), await store.credits("acct_b")]).toEqual([800, null, 300, null]);
    });

    test("Should take no credits from an account without a wallet - null stays null", async () => {
      await store.usage.record(usageEvent("req_b", { keyId: "key_b", accountId: "acct_b", costMicros: 300 }));
      expect(await store.credits("acct_b")).toBeNull();
    });

    test("Should aggregate request rows and daily roll-ups alike - by key, model and UTC day", async () => {
      await store.usage.record(usageEvent("req_1", { costMicros: 100 }));
      await store.usage.record(usageEvent("req_2", { status: 500, model: null, costMicros: 50 }));
      await store.usage.record(usageEvent("req_3", { keyId: "key_b", accountId: "acct_b", startedAt: new Date(DAY + 86_400_000 + 5) }));
      await store.seedDaily({
        day: "2027-01-09", accountId: "acct_a", keyId: "key_a", endpoint: "POST /v1/chat/completions", model: "tiny",
        requests: 4, errors: 1, promptTokens: 40, completionTokens: 20, draftTokensAccepted: 0, costMicros: 400,
      });
      expect(await store.usage.aggregate({}, ["day"])).toEqual([
        { day: "2027-01-09", requests: 4, errors: 1, prompt_tokens: 40, completion_tokens: 20, cost_micros: 400 },
        { day: "2027-01-10", requests: 2, errors: 1, prompt_tokens: 20, completion_tokens: 10, cost_micros: 150 },
        { day: "2027-01-11", requests: 1, errors: 0, prompt_tokens: 10, completion_tokens: 5, cost_micros: 0 },
      ]);
      expect(await store.usage.aggregate({ keyIds: ["key_a"], since: DAY, until: DAY + 86_400_000 }, ["key", "model"])).toEqual([
        { key_id: "key_a", model: null, requests: 1, errors: 1, prompt_tokens: 10, completion_tokens: 5, cost_micros: 50 },
        { key_id: "key_a", model: "tiny", requests: 1, errors: 0, prompt_tokens: 10, completion_tokens: 5, cost_micros: 100 },
      ]);
      expect(await store.usage.aggregate({ accountIds: [] }, ["account"])).toEqual([]);
      // Budgets read the spend kept as requests are metered; a roll-up folds rows already counted there.
      expect(await store.usage.spent({ keyIds: ["key_a"] })).toEqual({ tokens: 30, costMicros: 150 });
      expect(await store.usage.spent({ keyIds: ["key_a"], since: DAY + 86_400_000 })).toEqual({ tokens: 0, costMicros: 0 });
      const totals = await store.usage.totalsByKey(["key_a", "key_b", "key_none"]);
      expect(Object.fromEntries(totals)).toEqual({
        key_a: { requests: 6, promptTokens: 60, completionTokens: 30, costMicros: 550 },
        key_b: { requests: 1, promptTokens: 10, completionTokens: 5, costMicros: 0 },
      });
    });

    test("Should keep each key's spend per UTC day as requests are metered - budgets sum days, by key or by accounts, and two nodes add up exactly", async () => {
      await store.usage.record(usageEvent("req_1", { costMicros: 100 }));
      await store.usage.record(usageEvent("req_2", { startedAt: new Date(DAY + 86_400_000 + 5), costMicros: 30, completionTokens: 7 }));
      await store.usage.record(usageEvent("req_3", { keyId: "key_b", accountId: "acct_b", costMicros: 1 }));
      // A request id metered twice counts once.
      await store.usage.record(usageEvent("req_1", { costMicros: 100 }));
      expect(await store.usage.spent({ keyIds: ["key_a"], since: DAY })).toEqual({ tokens: 32, costMicros: 130 });
      expect(await store.usage.spent({ keyIds: ["key_a"], since: DAY + 86_400_000 })).toEqual({ tokens: 17, costMicros: 30 });
      expect(await store.usage.spent({ accountIds: ["acct_a", "acct_b"], since: DAY })).toEqual({ tokens: 47, costMicros: 131 });
      expect(await store.usage.spent({ accountIds: [], since: DAY })).toEqual({ tokens: 0, costMicros: 0 });

      const other = store.otherNode();
      await Promise.all(
        Array.from({ length: 20 }, (_, index) => (index % 2 === 0 ? store : other).usage.record(usageEvent(`req_n${index}`, { startedAt: new Date(DAY + 7_200_000), costMicros: 2 }))),
      );
      expect(await other.usage.spent({ keyIds: ["key_a"], since: DAY })).toEqual({ tokens: 32 + 20 * 15, costMicros: 130 + 20 * 2 });
    });

    test("Should sum draft tokens per model over request rows and roll-ups - a row that reported none adds no reported tokens", async () => {
      await store.usage.record(usageEvent("req_1", { draftTokensAccepted: 3 }));
      await store.usage.record(usageEvent("req_2"));
      await store.usage.record(usageEvent("req_3", { model: null }));
      await store.seedDaily({
        day: "2027-01-09", accountId: "acct_a", keyId: "key_a", endpoint: "POST /v1/chat/completions", model: "tiny",
        requests: 4, errors: 0, promptTokens: 40, completionTokens: 20, draftTokensAccepted: 8, costMicros: 0,
      });
      const sums = (await store.usage.draftSums()).sort((a, b) => a.model.localeCompare(b.model));
      expect(sums).toEqual([
        { model: "", requests: 1, completion: 5, accepted: 0, reported: 0 },
        { model: "tiny", requests: 6, completion: 30, accepted: 11, reported: 25 },
      ]);
    });

    test("Should page the request log newest first within the scope - equal start times neither repeat nor vanish across pages", async () => {
      const at = (i: number) => new Date(DAY + Math.floor(i / 2) * 1000);
      for (let i = 0; i < 5; i++) await store.usage.record(usageEvent(`req_${i}`, { startedAt: at(i), status: i === 4 ? 503 : 200 }));
      await store.usage.record(usageEvent("req_b", { keyId: "key_b", accountId: "acct_b", startedAt: new Date(DAY + 9000) }));
      const page = { limit: 2 } as const;
      const ids = async (scope: Parameters<typeof store.usage.requestPage>[0], query: Parameters<typeof store.usage.requestPage>[1]) =>
        (await store.usage.requestPage(scope, query))?.map((row) => row.id) ?? null;
      const tree = { kind: "tree", rootId: "acct_a" } as const;
      expect(await ids(tree, page)).toEqual(["req_4", "req_3"]);
      expect(await ids(tree, { ...page, before: "req_3" })).toEqual(["req_2", "req_1"]);
      expect(await ids(tree, { ...page, before: "req_1" })).toEqual(["req_0"]);
      expect(await ids({ kind: "all" }, { limit: 1 })).toEqual(["req_b"]);
      expect(await ids({ kind: "all" }, { limit: 10, status: "server_error" })).toEqual(["req_4"]);
      expect(await ids({ kind: "all" }, { limit: 10, key_id: "key_b", since: new Date(DAY + 9000).toISOString() })).toEqual(["req_b"]);
      expect(await ids({ kind: "none" }, page)).toEqual([]);
      expect(await ids(tree, { ...page, before: "req_none" })).toBeNull();
    });
  });
}
