import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { cliActor, type Actor } from "../../src/accounts/actor";
import type { AccountRow, ApiKeyRow } from "../../src/db/schema";
import type { AccountRepository, AccountScene } from "../../src/store/account-repository";
import type { KeyScene } from "../../src/store/key-repository";
import { accountRow as storedAccountRow, keyRow as storedKeyRow } from "../support/store-rows";
import { storeBackends, type Node, type StoreBackend } from "./store-backends";

const backends = await storeBackends();
const AT = new Date(Date.UTC(2027, 0, 10));
const cli = cliActor("ann");
const manager = (accountId: string, keyId: string): Actor => ({ id: `key:${keyId}`, role: "manager", accountId, keyId });

const accountRow = (id: string, fields: Partial<AccountRow> = {}) => storedAccountRow(id, AT, fields);
const keyRow = (id: string, accountId: string, fields: Partial<ApiKeyRow> = {}) => storedKeyRow(id, accountId, AT, fields);

const createAccount = (node: Node, row: AccountRow) =>
  node.accounts.change({ actor: cli, accountId: row.parentId }, () => ({ at: AT, write: { insert: row }, audit: () => ({ actor: cli.id, action: "account.create", target: row.id }) }));

const createKey = (node: Node, row: ApiKeyRow) =>
  node.keys.change({ actor: cli, accountId: row.accountId }, () => ({ at: AT, write: { insert: row }, audit: { actor: cli.id, action: "key.create", target: row.id } }));

/** A tree: top > mid > leaf, and a sibling of mid; a manager key on mid. */
async function seedTree(node: Node) {
  await createAccount(node, accountRow("top", { allowedRegions: ["eu-1", "eu-2", "us-1"] }));
  await createAccount(node, accountRow("mid", { parentId: "top", allowedRegions: ["eu-1", "eu-2"] }));
  await createAccount(node, accountRow("leaf", { parentId: "mid", allowedRegions: ["eu-2"] }));
  await createAccount(node, accountRow("side", { parentId: "top" }));
  await createKey(node, keyRow("key_mgr", "mid", { role: "manager" }));
  await createKey(node, keyRow("key_leaf", "leaf", { allowedRegions: ["eu-2"] }));
}

async function sceneOf(accounts: AccountRepository, target: Parameters<AccountRepository["change"]>[0]): Promise<AccountScene> {
  let seen: AccountScene | undefined;
  await expect(
    accounts.change(target, (scene) => {
      seen = scene;
      throw new Error("only looking");
    }),
  ).rejects.toThrow("only looking");
  return seen!;
}

for (const { name, open } of backends) {
  describe(`account and key contract on ${name}`, () => {
    let store: StoreBackend;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store[Symbol.asyncDispose]();
    });

    test("Should write an account and its audit entry together - and neither when the decision refuses", async () => {
      const written = await createAccount(store, accountRow("acct_a", { budgetPeriod: "day", budgetTokens: 100, allowedRegions: ["eu-1"] }));
      expect(written).toEqual(accountRow("acct_a", { budgetPeriod: "day", budgetTokens: 100, allowedRegions: ["eu-1"] }));
      expect(await store.accounts.byId("acct_a")).toEqual(written);
      await expect(
        store.accounts.change({ actor: cli, accountId: null }, () => {
          throw new Error("refused");
        }),
      ).rejects.toThrow("refused");
      expect((await store.audit.list({ limit: 10, order: "asc" })).map((row) => [row.action, row.target])).toEqual([["account.create", "acct_a"]]);
      expect(await store.audit.verify(null)).toMatchObject({ ok: true, entries: 1 });
    });

    test("Should roll the row back when its audit entry cannot be appended - the change and its entry are one transaction", async () => {
      // Details that cannot be serialised make the append throw after the account row was written.
      await expect(
        store.accounts.change({ actor: cli, accountId: null }, () => ({
          at: AT,
          write: { insert: accountRow("acct_doomed") },
          audit: () => ({ actor: cli.id, action: "account.create", target: "acct_doomed", details: { bad: 1n } }),
        })),
      ).rejects.toThrow();
      expect(await store.accounts.byId("acct_doomed")).toBeUndefined();
      expect(await store.audit.list({ limit: 10, order: "asc" })).toEqual([]);
    });

    test("Should show a decision the account chain, names, visibility and what lies below - read inside the change", async () => {
      await seedTree(store);
      const scene = await sceneOf(store.accounts, { actor: manager("mid", "key_mgr"), accountId: "mid", name: "leaf", below: true });
      expect(scene.chain.map((row) => row.id)).toEqual(["mid", "top"]);
      expect(scene.own.map((row) => row.id)).toEqual(["mid", "top"]);
      expect(scene.visible).toEqual(new Set(["mid", "leaf"]));
      expect(scene.nameHolder).toBe("leaf");
      expect(scene.below).toEqual({
        subtree: expect.arrayContaining(["mid", "leaf"]),
        liveChild: "leaf",
        regionLists: [
          { what: "sub-account 'leaf'", regions: ["eu-2"] },
          { what: "key 'key_leaf'", regions: ["eu-2"] },
        ],
      });
      expect(scene.below!.subtree.length).toBe(2);
      const admin = await sceneOf(store.accounts, { actor: cli, accountId: null, name: "nobody" });
      expect(admin).toEqual({ visible: "all", own: [], chain: [], nameHolder: null, below: null });
    });

    test("Should read an account's chain nearest first and its subtree with deleted accounts - and stop at a cycle", async () => {
      await seedTree(store);
      const leaf = (await store.accounts.byId("leaf"))!;
      expect((await store.accounts.chain(leaf)).map((row) => row.id)).toEqual(["leaf", "mid", "top"]);
      expect((await store.accounts.chain((await store.accounts.byId("top"))!)).map((row) => row.id)).toEqual(["top"]);
      expect((await store.accounts.subtree("top")).sort()).toEqual(["leaf", "mid", "side", "top"]);
      expect(await store.accounts.visible(manager("mid", "key_mgr"))).toEqual(new Set(["mid", "leaf"]));
      expect(await store.accounts.visible({ ...cli, role: "user" })).toEqual(new Set());
      await store.exec("update accounts set parent_id = 'leaf' where id = 'top'");
      expect((await store.accounts.chain(leaf)).map((row) => row.id)).toEqual(["leaf", "mid", "top"]);
      expect((await store.accounts.subtree("top")).sort()).toEqual(["leaf", "mid", "side", "top"]);
    });

    test("Should find live accounts by id and name, oldest first - a deleted one only by byId", async () => {
      await seedTree(store);
      const deleted = await store.accounts.change({ actor: cli, accountId: "side" }, () => ({
        at: new Date(AT.getTime() + 5),
        write: { delete: true },
        audit: (row) => ({ actor: cli.id, action: "account.delete", target: row.id }),
      }));
      expect(deleted.deletedAt).toEqual(new Date(AT.getTime() + 5));
      expect(await store.accounts.liveById("side")).toBeUndefined();
      expect(await store.accounts.liveByName("side")).toBeUndefined();
      expect((await store.accounts.byId("side"))?.deletedAt).toEqual(new Date(AT.getTime() + 5));
      expect((await store.accounts.liveByName("mid"))?.id).toBe("mid");
      expect((await store.accounts.listLive()).map((row) => row.id).sort()).toEqual(["leaf", "mid", "top"]);
    });

    test("Should revoke an account's live keys when it is deleted - in the same change", async () => {
      await seedTree(store);
      const at = new Date(AT.getTime() + 9);
      await store.accounts.change({ actor: cli, accountId: "leaf" }, () => ({ at, write: { delete: true }, audit: (row) => ({ actor: cli.id, action: "account.delete", target: row.id }) }));
      expect(await store.keys.byId("key_leaf")).toMatchObject({ revokedAt: at, updatedAt: at });
      expect((await store.keys.byId("key_mgr"))?.revokedAt).toBeNull();
      expect((await store.audit.list({ limit: 1, order: "desc" }))[0]).toMatchObject({ action: "account.delete", target: "leaf" });
    });

    test("Should update an account's fields and stamp updatedAt - and record the change", async () => {
      await seedTree(store);
      const at = new Date(AT.getTime() + 1);
      const row = await store.accounts.change({ actor: cli, accountId: "mid" }, () => ({
        at,
        write: { update: { name: "middle", budgetPeriod: "month", budgetCostMicros: 5_000_000, allowedRegions: ["eu-1"] } },
        audit: (written) => ({ actor: cli.id, action: "account.update", target: written.id, details: { name: written.name } }),
      }));
      expect(row).toEqual(accountRow("mid", { name: "middle", parentId: "top", budgetPeriod: "month", budgetCostMicros: 5_000_000, allowedRegions: ["eu-1"], updatedAt: at }));
      expect((await store.audit.list({ limit: 1, order: "desc" }))[0]!.details).toEqual({ name: "middle" });
    });

    test("Should add credits in SQL - concurrent top-ups and usage charges from two nodes all count", async () => {
      await seedTree(store);
      await store.seedKey({ id: "key_top", accountId: "top" });
      const other = store.otherNode();
      const credit = (node: Node, micros: number) =>
        node.accounts.change({ actor: cli, accountId: "top" }, () => ({
          at: AT,
          write: { credit: micros },
          audit: (row) => ({ actor: cli.id, action: "account.credits", target: row.id, details: { added_micros: micros, balance_micros: row.creditsMicros } }),
        }));
      const first = await credit(store, 0);
      expect(first.creditsMicros).toBe(0);
      const writes: Promise<unknown>[] = [];
      for (let i = 0; i < 10; i++) {
        writes.push(credit(i % 2 === 0 ? store : other, 1_000));
        writes.push(
          (i % 2 === 0 ? other : store).usage.record({
            id: `req_${i}`, keyId: "key_top", accountId: "top", endpoint: "POST /v1/chat/completions", model: "tiny", startedAt: AT,
            queueMs: 0, ttftMs: 0, durationMs: 0, promptTokens: 1, cachedTokens: 0, completionTokens: 1, draftTokensAccepted: null,
            costMicros: 300, status: 200, errorCode: null, clientIp: null,
          }),
        );
      }
      await Promise.all(writes);
      expect(await store.credits("top")).toBe(10 * 1_000 - 10 * 300);
      const balances = (await store.audit.list({ limit: 100, order: "asc", action: "account.credits" })).map((row) => (row.details as { balance_micros: unknown }).balance_micros);
      expect(balances.length).toBe(11);
      expect(balances[0]).toBe(0);
      for (const balance of balances) expect(Number.isInteger(balance)).toBe(true);
      expect(await store.audit.verify(null)).toMatchObject({ ok: true });
    });

    test("Should let one of two nodes take a name at once - the other's decision sees it taken", async () => {
      const other = store.otherNode();
      const claim = (node: Node, id: string) =>
        node.accounts.change({ actor: cli, accountId: null, name: "shared" }, (scene) => {
          if (scene.nameHolder != null) throw new Error(`taken by ${scene.nameHolder}`);
          return { at: AT, write: { insert: accountRow(id, { name: "shared" }) }, audit: () => ({ actor: cli.id, action: "account.create", target: id }) };
        });
      const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => claim(i % 2 === 0 ? store : other, `acct_${i}`)));
      const won = results.filter((result) => result.status === "fulfilled");
      expect(won.length).toBe(1);
      const holder = (won[0] as PromiseFulfilledResult<AccountRow>).value.id;
      for (const result of results) if (result.status === "rejected") expect(String(result.reason)).toContain(`taken by ${holder}`);
      expect(await store.audit.verify(null)).toMatchObject({ ok: true, entries: 1 });
    });

    test("Should write a key and its audit entry together - and find it by lookup, id and list filters", async () => {
      await seedTree(store);
      const later = new Date(AT.getTime() + 1);
      await createKey(store, keyRow("key_b", "mid", { models: ["tiny"], allowedIps: ["10.0.0.0/8"], rpm: 5, budgetPeriod: "day", budgetTokens: 9, expiresAt: later, createdAt: later }));
      expect(await store.keys.byId("key_b")).toEqual(keyRow("key_b", "mid", { models: ["tiny"], allowedIps: ["10.0.0.0/8"], rpm: 5, budgetPeriod: "day", budgetTokens: 9, expiresAt: later, createdAt: later }));
      expect((await store.keys.byLookup("lookkey_")).map((row) => row.id).sort()).toEqual(["key_b", "key_leaf", "key_mgr"]);
      expect(await store.keys.byLookup("nothing")).toEqual([]);
      expect((await store.keys.list({ accountId: "mid" })).map((row) => row.id)).toEqual(["key_mgr", "key_b"]);
      expect((await store.audit.list({ limit: 100, order: "asc", action: "key." })).map((row) => row.target)).toEqual(["key_mgr", "key_leaf", "key_b"]);
    });

    test("Should update or leave a key as the decision says - revoked keys drop out of the default list", async () => {
      await seedTree(store);
      const at = new Date(AT.getTime() + 3);
      const revoke = () =>
        store.keys.change({ actor: cli, keyId: "key_leaf" }, (scene) =>
          scene.key!.revokedAt != null ? { unchanged: scene.key! } : { at, write: { update: { revokedAt: at } }, audit: { actor: cli.id, action: "key.revoke", target: "key_leaf" } },
        );
      expect(await revoke()).toMatchObject({ id: "key_leaf", revokedAt: at, updatedAt: at });
      expect(await revoke()).toMatchObject({ id: "key_leaf", revokedAt: at });
      expect((await store.audit.list({ limit: 100, order: "asc", action: "key.revoke" })).length).toBe(1);
      expect((await store.keys.list({})).map((row) => row.id)).toEqual(["key_mgr"]);
      expect((await store.keys.list({ includeRevoked: true })).map((row) => row.id).sort()).toEqual(["key_leaf", "key_mgr"]);
    });

    test("Should show a key decision the caller, both chains and the account's live key names", async () => {
      await seedTree(store);
      let seen: KeyScene | undefined;
      await expect(
        store.keys.change({ actor: manager("mid", "key_mgr"), keyId: "key_leaf", name: "key_leaf" }, (scene) => {
          seen = scene;
          throw new Error("only looking");
        }),
      ).rejects.toThrow("only looking");
      expect(seen!.caller?.id).toBe("key_mgr");
      expect(seen!.callerChain.map((row) => row.id)).toEqual(["mid", "top"]);
      expect(seen!.key?.id).toBe("key_leaf");
      expect(seen!.chain.map((row) => row.id)).toEqual(["leaf", "mid", "top"]);
      expect(seen!.chain[0]!.allowedRegions).toEqual(["eu-2"]);
      expect(seen!.nameHolder).toBe("key_leaf");
      expect(seen!.visible).toEqual(new Set(["mid", "leaf"]));
      await expect(
        store.keys.change({ actor: cli, accountId: "side", name: "key_leaf" }, (scene) => {
          seen = scene;
          throw new Error("only looking");
        }),
      ).rejects.toThrow("only looking");
      expect(seen).toEqual({ visible: "all", caller: null, callerChain: [], key: null, chain: [expect.objectContaining({ id: "side" }), expect.objectContaining({ id: "top" })], nameHolder: null });
    });

    test("Should keep the audit chain linear with key changes on two nodes at once", async () => {
      await seedTree(store);
      const other = store.otherNode();
      await Promise.all(Array.from({ length: 12 }, (_, i) => createKey(i % 2 === 0 ? store : other, keyRow(`key_${i}`, "side"))));
      expect((await other.keys.list({ accountId: "side" })).length).toBe(12);
      expect(await store.audit.verify(null)).toMatchObject({ ok: true, entries: 4 + 2 + 12 });
    });
  });
}
