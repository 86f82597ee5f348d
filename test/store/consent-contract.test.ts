import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { ConsentRow } from "../../src/db/schema";
import { InvalidRequestError } from "../../src/errors";
import type { AccountScope } from "../../src/store/account-scope";
import { payload } from "./payload-row";
import { storeBackends, type StoreBackend } from "./store-backends";

const backends = await storeBackends();
const DAY = Date.UTC(2027, 0, 10);
const ALL: AccountScope = { kind: "all" };

const consent = (id: string, accountId: string, at = DAY): ConsentRow => ({
  id,
  accountId,
  mode: "full",
  purposes: ["debugging"],
  retentionDays: 7,
  grantedBy: "Ann Example",
  statement: "s",
  grantedAt: new Date(at),
  recordedBy: "cli:ann",
  recordedAt: new Date(at),
  revokedAt: null,
  revokedBy: null,
});

const recordAudit = (row: ConsentRow) => ({ actor: "cli:ann", action: "consent.record", target: row.accountId, details: { consent_id: row.id } });
const actions = async (store: StoreBackend) => (await store.audit.list({ limit: 100, order: "asc" })).map((row) => row.action);

for (const { name, open } of backends) {
  describe(`consent contract on ${name}`, () => {
    let store: StoreBackend;
    beforeEach(async () => {
      store = await open();
      await store.seedAccount({ id: "acct_a" });
      await store.seedAccount({ id: "acct_child", parentId: "acct_a" });
      await store.seedAccount({ id: "acct_b" });
      await store.seedAccount({ id: "acct_gone", deletedAt: new Date(DAY) });
      await store.seedKey({ id: "key_a", accountId: "acct_a" });
      await store.seedKey({ id: "key_child", accountId: "acct_child" });
      await store.seedKey({ id: "key_b", accountId: "acct_b" });
    });
    afterEach(async () => {
      await store[Symbol.asyncDispose]();
    });

    test("Should record one active consent per account with its audit entry - a second comes back as the active one, unaudited", async () => {
      const first = consent("cns_1", "acct_a");
      expect(await store.consents.record(ALL, first, recordAudit(first))).toEqual({ recorded: first });
      expect(await store.consents.record(ALL, consent("cns_2", "acct_a"), recordAudit(consent("cns_2", "acct_a")))).toEqual({ active: first });
      expect(await store.consents.list(ALL, "acct_a")).toEqual([first]);
      expect(await store.consents.policy({ accountId: "acct_a", keyId: "key_a" })).toEqual({ consent: first, overrides: [] });
      expect(await actions(store)).toEqual(["consent.record"]);
    });

    test("Should not record or list for an account out of scope or deleted - null, nothing written", async () => {
      const tree: AccountScope = { kind: "tree", rootId: "acct_child" };
      expect(await store.consents.record(tree, consent("cns_1", "acct_a"), recordAudit(consent("cns_1", "acct_a")))).toBeNull();
      expect(await store.consents.record(ALL, consent("cns_2", "acct_gone"), recordAudit(consent("cns_2", "acct_gone")))).toBeNull();
      expect(await store.consents.list({ kind: "none" }, "acct_a")).toBeNull();
      expect(await store.consents.list({ kind: "tree", rootId: "acct_a" }, "acct_child")).toEqual([]);
      expect(await store.count("consents")).toBe(0);
      expect(await actions(store)).toEqual([]);
    });

    test("Should record exactly one consent when two nodes record for one account at once", async () => {
      const other = store.otherNode();
      const rows = Array.from({ length: 6 }, (_, i) => consent(`cns_${i}`, "acct_a"));
      const results = await Promise.all(rows.map((row, i) => (i % 2 === 0 ? store : other).consents.record(ALL, row, recordAudit(row))));
      expect(results.filter((result) => result != null && "recorded" in result)).toHaveLength(1);
      expect(await store.count("consents")).toBe(1);
      expect(await store.audit.verify(null)).toMatchObject({ ok: true, entries: 1 });
    });

    test("Should delete the payloads kept under a consent when it is revoked - full rows by consent, anonymized ones through the account's metering", async () => {
      const row = consent("cns_1", "acct_a");
      await store.consents.record(ALL, row, recordAudit(row));
      await store.usage.record({
        id: "req_anon", keyId: "key_a", accountId: "acct_a", endpoint: "POST /v1/chat/completions", model: "tiny", startedAt: new Date(DAY), queueMs: 0,
        ttftMs: null, durationMs: 1, promptTokens: 1, cachedTokens: 0, completionTokens: 1, draftTokensAccepted: null, costMicros: 0, status: 200, errorCode: null, clientIp: null,
      });
      await store.payloads.store(payload("p_full", { consentId: "cns_1" }));
      await store.payloads.store(payload("p_anon", { requestId: "req_anon", mode: "anonymized", accountId: null, keyId: null }));
      await store.payloads.store(payload("p_policy", { basis: "policy", requestId: "req_anon", mode: "anonymized", accountId: null, keyId: null }));
      await store.payloads.store(payload("p_other", { accountId: "acct_b", keyId: "key_b", consentId: "cns_other" }));
      const revoked = { by: "cli:bob", at: new Date(DAY + 5) };
      const audit = (c: ConsentRow, deleted: number) => ({ actor: "cli:bob", action: "consent.revoke", target: c.accountId, details: { consent_id: c.id, payloads_deleted: deleted } });
      expect(await store.consents.revoke("cns_1", revoked, audit)).toEqual({ consent: { ...row, revokedAt: revoked.at, revokedBy: "cli:bob" }, payloadsDeleted: 2 });
      expect((await store.payloads.ofAccount("acct_a")).map((p) => p.id)).toEqual(["p_policy"]);
      expect(await store.count("retained_payloads")).toBe(2);
      expect(await store.consents.revoke("cns_1", { by: "cli:eve", at: new Date(DAY + 9) }, audit)).toMatchObject({ consent: { revokedBy: "cli:bob" }, payloadsDeleted: 0 });
      expect(await store.consents.revoke("cns_none", revoked, audit)).toBeNull();
      expect((await store.audit.list({ limit: 10, order: "asc" })).map((e) => [e.action, e.details])).toEqual([
        ["consent.record", { consent_id: "cns_1" }],
        ["consent.revoke", { consent_id: "cns_1", payloads_deleted: 2 }],
      ]);
      expect(await store.consents.policy({ accountId: "acct_a", keyId: "key_a" })).toEqual({ consent: null, overrides: [] });
    });

    test("Should set an override only where allow lets it - a refusal writes neither the override nor its audit entry", async () => {
      const row = consent("cns_1", "acct_a");
      await store.consents.record(ALL, row, recordAudit(row));
      const seen: (string | null)[] = [];
      const change = { payloads: "anonymized" as const, setBy: "cli:ann", setAt: new Date(DAY + 1) };
      const set = (target: { kind: "account" | "key"; id: string }, allow: (mode: string | null) => void, scope: AccountScope = ALL) =>
        store.consents.setOverride(scope, target, change, allow, { actor: "cli:ann", action: "retention.override.set", target: `${target.kind}:${target.id}` });
      expect(await set({ kind: "key", id: "key_a" }, (mode) => seen.push(mode))).toEqual({ subject: "key:key_a", ...change });
      expect(await set({ kind: "account", id: "acct_b" }, (mode) => seen.push(mode))).toEqual({ subject: "account:acct_b", ...change });
      expect(seen).toEqual(["full", null]);
      const refuse = () => {
        throw new InvalidRequestError("not stricter");
      };
      await expect(set({ kind: "account", id: "acct_child" }, refuse)).rejects.toThrow("not stricter");
      expect(await set({ kind: "key", id: "key_b" }, () => {}, { kind: "tree", rootId: "acct_a" })).toBeNull();
      expect(await set({ kind: "account", id: "acct_gone" }, () => {})).toBeNull();
      expect(await store.consents.policy({ accountId: "acct_a", keyId: "key_a" })).toEqual({ consent: row, overrides: ["anonymized"] });
      expect(await store.count("retention_overrides")).toBe(2);
      expect(await actions(store)).toEqual(["consent.record", "retention.override.set", "retention.override.set"]);
    });

    test("Should clear an override once - audited only when there was one, null out of scope", async () => {
      await store.consents.setOverride(ALL, { kind: "key", id: "key_child" }, { payloads: "none", setBy: "cli:ann", setAt: new Date(DAY) }, () => {}, {
        actor: "cli:ann", action: "retention.override.set", target: "key:key_child",
      });
      const clear = (scope: AccountScope) => store.consents.clearOverride(scope, { kind: "key", id: "key_child" }, { actor: "cli:ann", action: "retention.override.clear", target: "key:key_child" }, new Date(DAY + 2));
      expect(await clear({ kind: "tree", rootId: "acct_b" })).toBeNull();
      expect(await clear({ kind: "tree", rootId: "acct_a" })).toBe(true);
      expect(await clear(ALL)).toBe(false);
      const entries = await store.audit.list({ limit: 10, order: "asc" });
      expect(entries.map((e) => [e.action, e.at])).toEqual([["retention.override.set", new Date(DAY).toISOString()], ["retention.override.clear", new Date(DAY + 2).toISOString()]]);
    });

    test("Should summarise only what the scope covers - a manager sees its subtree's overrides and consents, the payload count is global", async () => {
      for (const [id, accountId] of [["cns_a", "acct_a"], ["cns_c", "acct_child"], ["cns_b", "acct_b"]] as const) {
        const row = consent(id, accountId, DAY + id.length);
        await store.consents.record(ALL, row, recordAudit(row));
      }
      for (const target of [{ kind: "account", id: "acct_b" }, { kind: "key", id: "key_child" }] as const)
        await store.consents.setOverride(ALL, target, { payloads: "none", setBy: "cli:ann", setAt: new Date(DAY) }, () => {}, { actor: "cli:ann", action: "retention.override.set", target: target.id });
      await store.payloads.store(payload("p_1"));
      const tree = await store.consents.summary({ kind: "tree", rootId: "acct_a" });
      expect(tree.overrides.map((row) => row.subject)).toEqual(["key:key_child"]);
      expect(tree.activeConsents.map((row) => row.id).sort()).toEqual(["cns_a", "cns_c"]);
      expect(tree.retainedPayloads).toBe(1);
      const all = await store.consents.summary(ALL);
      expect(all.overrides.map((row) => row.subject).sort()).toEqual(["account:acct_b", "key:key_child"]);
      expect(all.activeConsents).toHaveLength(3);
      expect(await store.consents.summary({ kind: "none" })).toEqual({ overrides: [], activeConsents: [], retainedPayloads: 1 });
    });
  });
}
