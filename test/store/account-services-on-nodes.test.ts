import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { createAccountService } from "../../src/accounts/account-service";
import { cliActor, keyActor } from "../../src/accounts/actor";
import { createKeyService } from "../../src/auth/key-service";
import { storeBackends, type Node, type StoreBackend } from "./store-backends";

const backends = await storeBackends();
const cli = cliActor("ann");

/** The key and account services one node composes over its own handle on the shared store. */
function servicesOn(node: Node) {
  return {
    keys: createKeyService({ keys: node.keys, accounts: node.accounts, pepper: "fleet-pepper", installationRegions: ["eu-1", "eu-2", "us-1"] }),
    accounts: createAccountService({ accounts: node.accounts }),
  };
}

for (const { name, open } of backends) {
  describe(`key and account services on two nodes of one ${name} store`, () => {
    let store: StoreBackend;
    let a: ReturnType<typeof servicesOn>;
    let b: ReturnType<typeof servicesOn>;
    beforeEach(async () => {
      store = await open();
      a = servicesOn(store);
      b = servicesOn(store.otherNode());
    });
    afterEach(async () => {
      await store[Symbol.asyncDispose]();
    });

    test("Should authenticate on one node a key created on the other - and refuse it there once revoked", async () => {
      const team = await a.accounts.create(cli, { name: "team", allowed_regions: ["eu-1", "eu-2"] });
      const { key, secret } = await a.keys.create(cli, { name: "app", account_id: team.id, models: ["tiny"], allowed_regions: ["eu-2"] });
      const seen = await b.keys.authenticate(secret, "10.0.0.1");
      expect(seen.key).toEqual(key);
      expect(seen.account).toEqual(team);
      expect(await b.keys.regionScope(seen.key, seen.account)).toEqual({ regions: ["eu-2"], rule: "key.allowed_regions" });
      await expect(b.keys.authenticate(`${secret.slice(0, -1)}${secret.endsWith("a") ? "b" : "a"}`)).rejects.toMatchObject({ status: 401, failure: "invalid" });
      await a.keys.revoke(cli, key.id);
      await expect(b.keys.authenticate(secret)).rejects.toMatchObject({ status: 401, failure: "revoked" });
    });

    test("Should bound what a manager grants on another node by its own key and account chain", async () => {
      const acme = await a.accounts.create(cli, { name: "acme", concurrency: 4, budget_period: "day", budget_tokens: 1000, allowed_regions: ["eu-1", "eu-2"] });
      const { secret } = await a.keys.create(cli, { name: "manager", role: "manager", account_id: acme.id, rpm: 60, allowed_regions: ["eu-1"] });
      const manager = keyActor((await b.keys.authenticate(secret)).key);
      const sub = await b.accounts.create(manager, { name: "acme-sub", concurrency: 2, budget_period: "day", budget_tokens: 500 });
      expect(sub.parentId).toBe(acme.id);
      await expect(b.accounts.create(manager, { name: "greedy", concurrency: 5 })).rejects.toMatchObject({ status: 403, code: "exceeds_caller_limit", param: "concurrency" });
      await expect(b.accounts.create(manager, { name: "acme-sub" })).rejects.toMatchObject({ status: 409, code: "conflict", param: "name" });
      const { key } = await b.keys.create(manager, { name: "worker", account_id: sub.id });
      expect(key).toMatchObject({ rpm: 60, allowedRegions: ["eu-1"] });
      await expect(b.keys.create(manager, { name: "wide", account_id: sub.id, rpm: 61 })).rejects.toMatchObject({ code: "exceeds_caller_limit", param: "rpm" });
      await expect(b.keys.create(manager, { name: "elsewhere", account_id: sub.id, allowed_regions: ["eu-2"] })).rejects.toMatchObject({ code: "exceeds_caller_limit", param: "allowed_regions" });
      await expect(b.accounts.update(manager, acme.id, { concurrency: 1 })).rejects.toMatchObject({ status: 403 });
      expect((await a.accounts.list(manager)).map((row) => row.name).sort()).toEqual(["acme", "acme-sub"]);
      expect((await a.keys.list(manager)).map((row) => row.name).sort()).toEqual(["manager", "worker"]);
    });

    test("Should refuse to narrow an account's regions past a list below it - however the tree was written", async () => {
      const top = await a.accounts.create(cli, { name: "top", allowed_regions: ["eu-1", "eu-2"] });
      const sub = await b.accounts.create(cli, { name: "sub", parent_id: top.id, allowed_regions: ["eu-2"] });
      await expect(b.accounts.create(cli, { name: "outside", parent_id: top.id, allowed_regions: ["us-1"] })).rejects.toMatchObject({ code: "region_not_allowed" });
      await expect(a.accounts.update(cli, top.id, { allowed_regions: ["eu-1"] })).rejects.toThrow(`sub-account '${sub.id}' allows region 'eu-2'`);
      const { key } = await a.keys.create(cli, { name: "pinned", account_id: top.id, allowed_regions: ["eu-1"] });
      await b.accounts.update(cli, sub.id, { allowed_regions: null });
      await expect(b.accounts.update(cli, top.id, { allowed_regions: ["eu-2"] })).rejects.toThrow(`key '${key.id}' allows region 'eu-1'`);
      expect((await a.accounts.update(cli, top.id, { allowed_regions: ["eu-1", "eu-2", "eu-1"] })).allowedRegions).toEqual(["eu-1", "eu-2"]);
    });

    test("Should delete an account with its keys on one node - the other then refuses its keys and finds it gone", async () => {
      const top = await a.accounts.create(cli, { name: "top" });
      const sub = await a.accounts.create(cli, { name: "sub", parent_id: top.id });
      const { secret } = await a.keys.create(cli, { name: "app", account_id: sub.id });
      await expect(b.accounts.delete(cli, top.id)).rejects.toMatchObject({ status: 409 });
      const deleted = await b.accounts.delete(cli, sub.id);
      expect(deleted.deletedAt).not.toBeNull();
      await expect(a.keys.authenticate(secret)).rejects.toMatchObject({ status: 401, failure: "revoked" });
      await expect(a.accounts.get(cli, sub.id)).rejects.toMatchObject({ status: 404 });
      expect((await a.accounts.resolve(cli, "top")).id).toBe(top.id);
      expect((await b.accounts.create(cli, { name: "sub" })).name).toBe("sub");
    });

    test("Should record every change on either node in one verifying audit chain - top-ups adding up", async () => {
      const team = await a.accounts.ensureDefault(cli);
      expect((await b.accounts.ensureDefault(cli)).id).toBe(team.id);
      await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? a : b).accounts.addCredits(cli, team.id, 0.5)));
      expect(await store.credits(team.id)).toBe(3_000_000);
      const entries = await store.audit.list({ limit: 100, order: "asc" });
      expect(entries.map((row) => row.action)).toEqual(["account.create", ...Array(6).fill("account.credits")]);
      expect(entries.map((row) => (row.details as { balance_micros?: number }).balance_micros).slice(1).sort((x, y) => x! - y!)).toEqual([500_000, 1_000_000, 1_500_000, 2_000_000, 2_500_000, 3_000_000]);
      expect(await store.audit.verify(null)).toMatchObject({ ok: true, entries: 7 });
    });
  });
}
