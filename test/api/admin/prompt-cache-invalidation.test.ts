import { describe, expect, test } from "bun:test";
import type { CacheOwner } from "../../../src/inference/cache-scope";
import type { PromptCache } from "../../../src/inference/engine";
import { createPromptCacheSweep } from "../../../src/privacy/prompt-cache-sweep";
import { createSqliteSubjectRepository } from "../../../src/store/sqlite-subject-repository";
import { api, guardedApp } from "../auth/harness";

/** A prompt cache that holds the given scopes and records what it is told to forget. */
function recordingCache(scopes: string[] = []) {
  const forgotten: CacheOwner[] = [];
  const cache: PromptCache = {
    scopes: () => scopes,
    forget: async (owner) => {
      forgotten.push(owner);
    },
  };
  return { cache, forgotten };
}

async function appWith(cache: PromptCache) {
  const h = await guardedApp({ engine: (local) => ({ ...local, promptCache: cache }) });
  const account = await h.accounts.create(h.cli, { name: "tenant" });
  const { key } = await h.keys.create(h.cli, { name: "tenant-key", account_id: account.id });
  return { h, account, key };
}

describe("changes that lock an owner out drop its cached prompts", () => {
  test("Should forget the key's cached prefixes when the admin API revokes it - the account's, or the key's own in key scope", async () => {
    const { cache, forgotten } = recordingCache();
    const { h, account, key } = await appWith(cache);
    using _h = h;
    const response = await h.app.handle(api(`/admin/keys/${key.id}`, h.adminSecret, { method: "DELETE" }));
    expect(response.status).toBe(200);
    expect(forgotten).toEqual([{ accountId: account.id, keyId: key.id }]);
  });

  test("Should forget the account's cached prefixes when the admin API erases it - right to erasure covers the KV cache", async () => {
    const { cache, forgotten } = recordingCache();
    const { h, account } = await appWith(cache);
    using _h = h;
    const response = await h.app.handle(api(`/admin/accounts/${account.id}/erase`, h.adminSecret, { method: "POST" }));
    expect(response.status).toBe(200);
    expect(forgotten).toEqual([{ accountId: account.id }]);
  });

  test("Should forget the account's cached prefixes when the admin API deletes it", async () => {
    const { cache, forgotten } = recordingCache();
    const { h, account } = await appWith(cache);
    using _h = h;
    const response = await h.app.handle(api(`/admin/accounts/${account.id}`, h.adminSecret, { method: "DELETE" }));
    expect(response.status).toBe(200);
    expect(forgotten).toEqual([{ accountId: account.id }]);
  });

  test("Should not forget anything when a revocation is refused - the cache follows the store", async () => {
    const { cache, forgotten } = recordingCache();
    const { h } = await appWith(cache);
    using _h = h;
    const response = await h.app.handle(api("/admin/keys/key_missing", h.adminSecret, { method: "DELETE" }));
    expect(response.status).toBe(404);
    expect(forgotten).toEqual([]);
  });
});

describe("prompt cache sweep", () => {
  test("Should forget the owners another process locked out - `enclave erase` and `enclave keys revoke` beside a server", async () => {
    const scopes: string[] = [];
    const { cache, forgotten } = recordingCache(scopes);
    const { h, account, key } = await appWith(recordingCache().cache);
    using _h = h;
    const other = await h.accounts.create(h.cli, { name: "other" });
    const { key: kept } = await h.keys.create(h.cli, { name: "kept", account_id: other.id });
    scopes.push(`key:${account.id}:${key.id}`, `account:${other.id}`, `key:${other.id}:${kept.id}`);
    using sweep = createPromptCacheSweep({ subjects: createSqliteSubjectRepository(h.store.db), cache, intervalMs: 3_600_000, logger: { warn() {} } });

    expect(await sweep.sweep()).toBe(0);
    // The unwrapped services, as a CLI process over the same store would use them.
    await h.keys.revoke(h.cli, key.id);
    expect(await sweep.sweep()).toBe(1);
    expect(forgotten).toEqual([{ accountId: account.id, keyId: key.id }]);

    await h.accounts.delete(h.cli, other.id);
    expect(await sweep.sweep()).toBe(3);
    expect(forgotten.slice(1)).toEqual(expect.arrayContaining([{ accountId: other.id }, { accountId: other.id, keyId: kept.id }]));
  });

  test("Should forget an account's prefixes once when another process revokes one of its keys - in account scope every key wrote into them", async () => {
    const { cache, forgotten } = recordingCache();
    const { h, account, key } = await appWith(recordingCache().cache);
    using _h = h;
    const scopes = [`account:${account.id}`];
    let clock = Date.now();
    using sweep = createPromptCacheSweep({ subjects: createSqliteSubjectRepository(h.store.db), cache: { ...cache, scopes: () => scopes }, intervalMs: 3_600_000, logger: { warn() {} }, now: () => clock });

    expect(await sweep.sweep()).toBe(0);
    await h.keys.revoke(h.cli, key.id);
    clock += 5_000;
    expect(await sweep.sweep()).toBe(1);
    expect(forgotten).toEqual([{ accountId: account.id }]);
    // The account still stands and its other keys still work: later sweeps keep the prefixes they write.
    clock += 5_000;
    expect(await sweep.sweep()).toBe(0);
  });
});
