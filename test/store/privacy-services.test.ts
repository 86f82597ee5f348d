import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import pino from "pino";
import { cliActor } from "../../src/accounts/actor";
import { configSchema } from "../../src/config/schema";
import { createPrivacy, type Privacy } from "../../src/privacy/create-privacy";
import { draftPairs } from "../../src/privacy/draft-data";
import type { PayloadContent } from "../../src/privacy/payload-store";
import { createRetentionKey } from "../../src/privacy/retention-key";
import { storeBackends, type StoreBackend } from "./store-backends";

const backends = await storeBackends();
const CANARY = "canary-7f3e9a prompt text";
const retention = configSchema.parse({}).retention;
const admin = cliActor("ann");
const subject = { accountId: "acct_a", keyId: "key_a" };
const content: PayloadContent = {
  kind: "generation",
  input: { kind: "chat", messages: [{ role: "user", content: CANARY }], tools: [], toolChoice: "auto" },
  output: { text: "an answer", toolCalls: [], finishReason: "stop" },
};

for (const { name, open } of backends) {
  describe(`privacy services on ${name}`, () => {
    let store: StoreBackend;
    let privacy: Privacy;
    beforeEach(async () => {
      store = await open();
      await store.seedAccount({ id: "acct_a" });
      await store.seedKey({ id: "key_a", accountId: "acct_a" });
      const { consents, payloads, subjects } = store;
      privacy = createPrivacy({ consents, payloads, subjects, retention, logger: pino({ level: "silent" }), key: createRetentionKey(randomBytes(32)) });
    });
    afterEach(async () => {
      await store[Symbol.asyncDispose]();
    });

    test("Should keep a consented payload encrypted, give it back decrypted, and remove it on revocation, purge and erasure - each audited", async () => {
      expect(await privacy.decide(subject)).toEqual({ mode: "none" });
      const consent = await privacy.consents.record(admin, "acct_a", { granted_by: "Ann", statement: "s", mode: "full", purposes: ["draft_training"], retention_days: 30 });
      const decision = await privacy.decide(subject);
      expect(decision).toEqual({ mode: "full", basis: "consent", purposes: ["draft_training"], days: 30, consentId: consent.id });
      if (decision.mode === "none") throw new Error("unreachable");
      await privacy.payloads.capture(decision, { requestId: "req_1", model: "tiny", subject }, content);

      const [row] = await privacy.payloadRows.ofAccount("acct_a");
      expect(row!.ciphertext.includes(Buffer.from(CANARY))).toBe(false);
      expect(privacy.payloads.open(row!).content).toEqual(content);
      expect(await draftPairs(privacy.payloadRows, privacy.payloads, { now: Date.now() })).toEqual([
        { model: "tiny", messages: [{ role: "user", content: CANARY }], completion: "an answer", finish_reason: "stop" },
      ]);
      const exported = await privacy.dataSubject.export(admin, "acct_a");
      expect(exported.payloads.map((payload) => payload.content)).toEqual([content]);

      await expect(privacy.consents.setKeyOverride(admin, "key_a", { payloads: "full" })).resolves.toMatchObject({ subject: "key:key_a" });
      await expect(privacy.consents.setAccountOverride(admin, "acct_none", { payloads: "none" })).rejects.toThrow("no account 'acct_none'");
      expect(await privacy.consents.revoke(admin, consent.id)).toMatchObject({ payloads_deleted: 1 });
      expect(await privacy.decide(subject)).toEqual({ mode: "none" });
      expect(await privacy.purge.run({ actor: admin.id })).toMatchObject({ dry_run: false, payloads_deleted: 0 });
      expect(await privacy.dataSubject.erase(admin, "acct_a")).toMatchObject({ account_id: "acct_a", keys_revoked: 1, consents_revoked: 0, overrides_removed: 1 });

      expect((await store.audit.list({ limit: 100, order: "asc" })).map((entry) => entry.action)).toEqual([
        "consent.record",
        "account.export",
        "retention.override.set",
        "consent.revoke",
        "retention.purge",
        "account.erase",
      ]);
      expect(await store.audit.verify(null)).toMatchObject({ ok: true, entries: 6 });
    });
  });
}
