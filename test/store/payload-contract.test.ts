import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { UsageEvent } from "../../src/metering/usage-recorder";
import type { PurgeCounts, PurgeCutoffs } from "../../src/store/payload-repository";
import { payload } from "./payload-row";
import { storeBackends, type StoreBackend } from "./store-backends";

const backends = await storeBackends();
const DAY_MS = 86_400_000;
const DAY = Date.UTC(2027, 0, 10);
const AT = DAY + 30 * DAY_MS;

const cutoffs: PurgeCutoffs = {
  at: new Date(AT),
  policyCreatedBy: new Date(DAY + 2 * DAY_MS),
  clientIpsBefore: new Date(DAY + 20 * DAY_MS),
  detailBefore: new Date(DAY + DAY_MS),
  auditBefore: new Date(DAY + 20 * DAY_MS),
};

const usageEvent = (id: string, startedAt: number, clientIp: string | null = "10.0.0.1"): UsageEvent => ({
  id, keyId: "key_a", accountId: "acct_a", endpoint: "POST /v1/chat/completions", model: "tiny", startedAt: new Date(startedAt), queueMs: 1, ttftMs: 2,
  durationMs: 3, promptTokens: 10, cachedTokens: 0, completionTokens: 5, draftTokensAccepted: 2, costMicros: 7, status: 200, errorCode: null, clientIp,
});

const purgeEntry = (counts: PurgeCounts) =>
  counts.payloads_deleted + counts.usage_rows_rolled_up + counts.client_ips_cleared + counts.audit_entries_removed === 0
    ? null
    : { actor: "system:retention", action: "retention.purge", target: "retention", details: { payloads_deleted: counts.payloads_deleted } };

for (const { name, open } of backends) {
  describe(`payload contract on ${name}`, () => {
    let store: StoreBackend;
    beforeEach(async () => {
      store = await open();
      await store.seedAccount({ id: "acct_a" });
      await store.seedKey({ id: "key_a", accountId: "acct_a" });
    });
    afterEach(async () => {
      await store[Symbol.asyncDispose]();
    });

    test("Should give back exactly the stored bytes - an account's own rows only, unexpired, of the kinds asked", async () => {
      await store.payloads.store(payload("p_draft", { purposes: ["draft_training"], createdAt: new Date(DAY + 1) }));
      await store.payloads.store(payload("p_other_model", { purposes: ["debugging", "draft_training"], model: "big", createdAt: new Date(DAY + 2) }));
      await store.payloads.store(payload("p_expired", { purposes: ["draft_training"], expiresAt: new Date(DAY) }));
      await store.payloads.store(payload("p_resp", { kind: "response", requestId: "req_r", createdAt: new Date(DAY + 3) }));
      await store.payloads.store(payload("p_gen", { requestId: "req_r", createdAt: new Date(DAY + 3) }));
      const at = new Date(DAY + 10);
      expect((await store.payloads.forDraftTraining(at)).map((row) => row.id)).toEqual(["p_draft", "p_other_model"]);
      expect((await store.payloads.forDraftTraining(at, "tiny")).map((row) => row.id)).toEqual(["p_draft"]);
      const response = { accountId: "acct_a", requestId: "req_r", kinds: ["response"] } as const;
      expect(await store.payloads.find(response, at)).toEqual(payload("p_resp", { kind: "response", requestId: "req_r", createdAt: new Date(DAY + 3) }));
      expect((await store.payloads.find(response, at))!.ciphertext).toEqual(Buffer.from([0, 255, 7, 128]));
      expect(await store.payloads.find({ ...response, accountId: "acct_b" }, at)).toBeNull();
      expect(await store.payloads.find(response, new Date(DAY + 8 * DAY_MS))).toBeNull();
      expect(await store.payloads.remove({ ...response, kinds: ["response", "generation"] })).toBe(2);
      expect((await store.payloads.ofAccount("acct_a")).map((row) => row.id)).toEqual(["p_expired", "p_draft", "p_other_model"]);
    });

    test("Should purge in one run what each window ended - payloads, client IPs, request rows into daily sums, old audit behind a checkpoint", async () => {
      await store.payloads.store(payload("p_expired", { expiresAt: new Date(AT - 1) }));
      await store.payloads.store(payload("p_policy_old", { basis: "policy", createdAt: new Date(DAY), expiresAt: new Date(AT + DAY_MS) }));
      await store.payloads.store(payload("p_keep", { createdAt: new Date(DAY), expiresAt: new Date(AT + DAY_MS) }));
      for (const event of [usageEvent("r_old1", DAY + 3_600_000), usageEvent("r_old2", DAY + 7_200_000), usageEvent("r_mid", DAY + 10 * DAY_MS), usageEvent("r_new", AT - 1)])
        await store.usage.record(event);
      for (const at of [DAY, DAY + 1, DAY + 25 * DAY_MS]) await store.audit.append({ actor: "cli:ann", action: "key.update", target: "key_a" }, new Date(at));
      const expected = { payloads_deleted: 2, usage_rows_rolled_up: 2, client_ips_cleared: 3, audit_entries_removed: 2, audit_checkpoint_seq: 2 };

      expect(await store.payloads.purge(cutoffs, { dryRun: true, signer: null, audit: purgeEntry })).toEqual({ ...expected, space: null });
      expect(await store.count("retained_payloads")).toBe(3);
      expect(await store.count("audit_log")).toBe(3);

      const counts = await store.payloads.purge(cutoffs, { dryRun: false, signer: null, audit: purgeEntry });
      expect(counts).toMatchObject(expected);
      expect(counts.space != null).toBe(name === "sqlite");
      expect((await store.payloads.ofAccount("acct_a")).map((row) => row.id)).toEqual(["p_keep"]);
      expect(await store.count("usage_events")).toBe(2);
      expect(await store.usage.aggregate({}, ["day"])).toEqual([
        { day: "2027-01-10", requests: 2, errors: 0, prompt_tokens: 20, completion_tokens: 10, cost_micros: 14 },
        { day: "2027-01-20", requests: 1, errors: 0, prompt_tokens: 10, completion_tokens: 5, cost_micros: 7 },
        { day: "2027-02-08", requests: 1, errors: 0, prompt_tokens: 10, completion_tokens: 5, cost_micros: 7 },
      ]);
      expect(await store.count("audit_checkpoints")).toBe(1);
      expect((await store.audit.list({ limit: 10, order: "asc" })).map((row) => [row.seq, row.action, row.details])).toEqual([
        [3, "key.update", {}],
        [4, "retention.purge", { payloads_deleted: 2 }],
      ]);
      expect(await store.audit.verify(null)).toMatchObject({ ok: true, entries: 2 });

      expect(await store.payloads.purge(cutoffs, { dryRun: false, signer: null, audit: purgeEntry })).toMatchObject({
        payloads_deleted: 0, usage_rows_rolled_up: 0, client_ips_cleared: 0, audit_entries_removed: 0, audit_checkpoint_seq: null, space: null,
      });
      expect(await store.count("audit_log")).toBe(2);
    });

    test("Should fold each request row once when two nodes purge at once - daily sums equal the rows they replace", async () => {
      for (let i = 0; i < 40; i++) await store.usage.record(usageEvent(`r_${i}`, DAY + i * 60_000, null));
      const other = store.otherNode();
      await Promise.all([store, other, store, other].map((node) => node.payloads.purge(cutoffs, { dryRun: false, signer: null, audit: purgeEntry })));
      expect(await store.count("usage_events")).toBe(0);
      expect(await store.usage.aggregate({}, ["day"])).toEqual([{ day: "2027-01-10", requests: 40, errors: 0, prompt_tokens: 400, completion_tokens: 200, cost_micros: 280 }]);
      expect(await store.audit.verify(null)).toMatchObject({ ok: true, entries: 1 });
    });
  });
}
