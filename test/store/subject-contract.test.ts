import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { ConsentRow } from "../../src/db/schema";
import type { UsageEvent } from "../../src/metering/usage-recorder";
import type { AccountScope } from "../../src/store/account-scope";
import type { ErasureCounts } from "../../src/store/subject-repository";
import { payload } from "./payload-row";
import { storeBackends, type StoreBackend } from "./store-backends";

const backends = await storeBackends();
const DAY = Date.UTC(2027, 0, 10);
const ALL: AccountScope = { kind: "all" };

const usageEvent = (id: string, keyId: string, accountId: string): UsageEvent => ({
  id, keyId, accountId, endpoint: "POST /v1/embeddings", model: "tiny", startedAt: new Date(DAY + 60_000), queueMs: 0, ttftMs: null,
  durationMs: 1, promptTokens: 4, cachedTokens: 0, completionTokens: 0, draftTokensAccepted: null, costMicros: 3, status: 200, errorCode: null, clientIp: "10.0.0.9",
});

const consent: ConsentRow = {
  id: "cns_a", accountId: "acct_a", mode: "full", purposes: ["quality"], retentionDays: 7, grantedBy: "Ann Example", statement: "s",
  grantedAt: new Date(DAY), recordedBy: "cli:ann", recordedAt: new Date(DAY), revokedAt: null, revokedBy: null,
};

const eraseEntry = (counts: ErasureCounts) => ({ actor: "cli:ann", action: "account.erase", target: "acct_a", details: counts });

for (const { name, open } of backends) {
  describe(`data-subject contract on ${name}`, () => {
    let store: StoreBackend;
    beforeEach(async () => {
      store = await open();
      await store.seedAccount({ id: "acct_a" });
      await store.seedAccount({ id: "acct_child", parentId: "acct_a", deletedAt: new Date(DAY) });
      await store.seedAccount({ id: "acct_b" });
      await store.seedKey({ id: "key_a", accountId: "acct_a" });
      await store.seedKey({ id: "key_b", accountId: "acct_b" });
      await store.consents.record(ALL, consent, { actor: "cli:ann", action: "consent.record", target: "acct_a", details: { consent_id: "cns_a" } });
      await store.consents.setOverride(ALL, { kind: "key", id: "key_a" }, { payloads: "anonymized", setBy: "cli:ann", setAt: new Date(DAY) }, () => {}, {
        actor: "cli:ann", action: "retention.override.set", target: "key:key_a",
      });
      await store.usage.record(usageEvent("req_a", "key_a", "acct_a"));
      await store.usage.record(usageEvent("req_b", "key_b", "acct_b"));
      await store.payloads.store(payload("p_full", { consentId: "cns_a" }));
      await store.payloads.store(payload("p_anon", { requestId: "req_a", mode: "anonymized", accountId: null, keyId: null }));
      await store.payloads.store(payload("p_b", { requestId: "req_b", mode: "anonymized", accountId: null, keyId: null }));
      await store.audit.append({ actor: "cli:ann", action: "key.create", target: "key_b" }, new Date(DAY));
    });
    afterEach(async () => {
      await store[Symbol.asyncDispose]();
    });

    test("Should export an account's own records from every table - and audit the export after reading them", async () => {
      const records = await store.subjects.export(ALL, "acct_a", new Date(DAY + 5), (found) => ({
        actor: "cli:ann", action: "account.export", target: found.account.id, details: { payloads: found.payloads.length },
      }));
      expect(records!.account).toMatchObject({ id: "acct_a", name: "acct_a", deletedAt: null });
      expect(records!.keys.map((key) => key.id)).toEqual(["key_a"]);
      expect(records!.requests.map((row) => [row.id, row.clientIp])).toEqual([["req_a", "10.0.0.9"]]);
      expect(records!.daily).toEqual([]);
      expect(records!.consents).toEqual([consent]);
      expect(records!.overrides.map((row) => row.subject)).toEqual(["key:key_a"]);
      expect(records!.payloads.map((row) => row.id).sort()).toEqual(["p_anon", "p_full"]);
      expect(records!.audit.map((row) => [row.action, row.target])).toEqual([["consent.record", "acct_a"], ["retention.override.set", "key:key_a"]]);
      expect((await store.audit.list({ limit: 1, order: "desc" }))[0]).toMatchObject({ action: "account.export", target: "acct_a", details: { payloads: 2 } });
      expect(await store.subjects.export({ kind: "tree", rootId: "acct_b" }, "acct_a", new Date(DAY), () => ({ actor: "x", action: "account.export", target: "acct_a" }))).toBeNull();
      expect((await store.subjects.export(ALL, "acct_child", new Date(DAY), () => ({ actor: "x", action: "account.export", target: "acct_child" })))!.account.id).toBe("acct_child");
    });

    test("Should erase an account in one transaction and once - billing sums kept, names and payloads gone, a second erasure changes nothing", async () => {
      const eraser = { actor: "cli:ann", accountId: null, at: new Date(DAY + 10) };
      expect(await store.subjects.erase(ALL, "acct_a", eraser, eraseEntry)).toEqual({
        erased: { already_erased: false, keys_revoked: 1, payloads_deleted: 2, usage_rows_rolled_up: 1, consents_revoked: 1, overrides_removed: 1, space: name === "sqlite" ? expect.any(Object) : null },
      });
      const after = await store.subjects.export(ALL, "acct_a", new Date(DAY + 11), () => ({ actor: "cli:ann", action: "account.export", target: "acct_a" }));
      expect(after!.account).toMatchObject({ name: "erased-acct_a", deletedAt: new Date(DAY + 10) });
      expect(after!.keys).toMatchObject([{ id: "key_a", name: "erased", revokedAt: new Date(DAY + 10) }]);
      expect(after!.consents).toMatchObject([{ grantedBy: "(erased)", revokedAt: new Date(DAY + 10), revokedBy: "cli:ann" }]);
      expect(after!.requests).toEqual([]);
      expect(after!.daily).toMatchObject([{ day: "2027-01-10", keyId: "key_a", requests: 1, promptTokens: 4, costMicros: 3 }]);
      expect([after!.overrides, after!.payloads]).toEqual([[], []]);
      expect(await store.count("retained_payloads")).toBe(1);
      expect((await store.usage.aggregate({}, ["account"])).map((row) => [row.account_id, row.requests, row.cost_micros])).toEqual([["acct_a", 1, 3], ["acct_b", 1, 3]]);

      expect(await store.subjects.erase(ALL, "acct_a", { ...eraser, at: new Date(DAY + 20) }, eraseEntry)).toEqual({
        erased: { already_erased: true, keys_revoked: 0, payloads_deleted: 0, usage_rows_rolled_up: 0, consents_revoked: 0, overrides_removed: 0, space: null },
      });
      const erasures = (await store.audit.list({ limit: 100, order: "asc", action: "account.erase" })).map((row) => row.details);
      expect(erasures).toEqual([
        { already_erased: false, keys_revoked: 1, payloads_deleted: 2, usage_rows_rolled_up: 1, consents_revoked: 1, overrides_removed: 1 },
        { already_erased: true, keys_revoked: 0, payloads_deleted: 0, usage_rows_rolled_up: 0, consents_revoked: 0, overrides_removed: 0 },
      ]);
      expect(await store.audit.verify(null)).toMatchObject({ ok: true });
    });

    test("Should refuse, changing nothing, to erase the eraser's own account or one with live sub-accounts - null out of scope", async () => {
      const at = new Date(DAY + 10);
      expect(await store.subjects.erase(ALL, "acct_a", { actor: "key:k", accountId: "acct_child", at }, eraseEntry)).toEqual({ refused: "own-account" });
      await store.seedAccount({ id: "acct_live_child", parentId: "acct_a" });
      expect(await store.subjects.erase(ALL, "acct_a", { actor: "cli:ann", accountId: null, at }, eraseEntry)).toEqual({ refused: "sub-accounts", child: "acct_live_child" });
      expect(await store.subjects.erase({ kind: "tree", rootId: "acct_b" }, "acct_a", { actor: "key:k", accountId: "acct_b", at }, eraseEntry)).toBeNull();
      expect(await store.count("retained_payloads")).toBe(3);
      expect(await store.count("usage_events")).toBe(2);
      expect((await store.audit.list({ limit: 100, order: "asc", action: "account." })).length).toBe(0);
    });

    test("Should fold each request row once when one node erases while another purges", async () => {
      for (let i = 0; i < 30; i++) await store.usage.record(usageEvent(`req_${i}`, "key_a", "acct_a"));
      const other = store.otherNode();
      const at = new Date(DAY + 40 * 86_400_000);
      const purge = other.payloads.purge(
        { at, policyCreatedBy: at, clientIpsBefore: at, detailBefore: new Date(DAY + 86_400_000), auditBefore: null },
        { dryRun: false, signer: null, audit: () => null },
      );
      const erase = store.subjects.erase(ALL, "acct_a", { actor: "cli:ann", accountId: null, at }, eraseEntry);
      await Promise.all([purge, erase]);
      expect(await store.count("usage_events")).toBe(0);
      expect((await store.usage.aggregate({}, ["account"])).map((row) => [row.account_id, row.requests])).toEqual([["acct_a", 31], ["acct_b", 1]]);
    });

    test("Should tell which prompt-cache owners are locked out - erased accounts, revoked or moved keys, an account with a key revoked since the last sweep", async () => {
      const since = new Date(DAY + 100);
      expect(await store.subjects.lockedOut({ accountId: "acct_a" }, since)).toBe(false);
      expect(await store.subjects.lockedOut({ accountId: "acct_a", keyId: "key_a" }, since)).toBe(false);
      expect(await store.subjects.lockedOut({ accountId: "acct_a", keyId: "key_b" }, since)).toBe(true);
      expect(await store.subjects.lockedOut({ accountId: "acct_a", keyId: "key_none" }, since)).toBe(true);
      expect(await store.subjects.lockedOut({ accountId: "acct_child" }, since)).toBe(true);
      expect(await store.subjects.lockedOut({ accountId: "acct_none" }, since)).toBe(true);
      await store.subjects.erase(ALL, "acct_b", { actor: "cli:ann", accountId: null, at: new Date(DAY + 200) }, eraseEntry);
      expect(await store.subjects.lockedOut({ accountId: "acct_b", keyId: "key_b" }, since)).toBe(true);
      await store.exec(`update api_keys set revoked_at = ${name === "sqlite" ? DAY + 50 : `to_timestamp(${(DAY + 50) / 1000})`} where id = 'key_a'`);
      expect(await store.subjects.lockedOut({ accountId: "acct_a" }, since)).toBe(false);
      expect(await store.subjects.lockedOut({ accountId: "acct_a" }, new Date(DAY))).toBe(true);
      expect(await store.subjects.lockedOut({ accountId: "acct_a", keyId: "key_a" }, since)).toBe(true);
    });
  });
}
