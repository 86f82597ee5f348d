import { and, eq, gte } from "drizzle-orm";
import { accounts, apiKeys } from "../db/schema";
import type { SyncDb } from "../db/sync-db";
import { ownerOf, type CacheOwner } from "../inference/cache-scope";
import type { PromptCache } from "../inference/engine";
import type { Logger } from "../logging/logger";

export interface PromptCacheSweepDeps {
  db: SyncDb;
  cache: PromptCache;
  intervalMs: number;
  logger: Pick<Logger, "warn">;
  now?: () => number;
}

export interface PromptCacheSweep extends Disposable {
  /**
   * Forgets the cached prefixes of every erased or deleted account, of every revoked key, and of
   * every account with a key revoked since the previous sweep; resolves with how many owners it dropped.
   */
  sweep(): Promise<number>;
}

/**
 * Drops cached prompt prefixes whose owner the store no longer lets in. The admin routes forget
 * at once (see forget-cached-prompts.ts); this catches what another process changed in the same
 * store, such as `enclave erase` or `enclave keys revoke` run beside a serving instance. Only the
 * few scopes cached right now (at most one per sequence) are looked up.
 */
export function createPromptCacheSweep(deps: PromptCacheSweepDeps): PromptCacheSweep {
  const { db, cache, logger } = deps;
  const now = deps.now ?? Date.now;
  let checkedSince = now();

  /** In account scope every key of the account wrote into its prefixes, so a key revoked since the last sweep drops them all. */
  function gone(owner: CacheOwner, since: number): boolean {
    const account = db.select({ deletedAt: accounts.deletedAt }).from(accounts).where(eq(accounts.id, owner.accountId)).get();
    if (account == null || account.deletedAt != null) return true;
    if (owner.keyId == null) {
      const revoked = db
        .select({ id: apiKeys.id })
        .from(apiKeys)
        .where(and(eq(apiKeys.accountId, owner.accountId), gte(apiKeys.revokedAt, new Date(since))))
        .get();
      return revoked != null;
    }
    const key = db.select({ revokedAt: apiKeys.revokedAt, accountId: apiKeys.accountId }).from(apiKeys).where(eq(apiKeys.id, owner.keyId)).get();
    return key == null || key.revokedAt != null || key.accountId !== owner.accountId;
  }

  async function sweep(): Promise<number> {
    const since = checkedSince;
    checkedSince = now();
    const stale = cache.scopes().flatMap((scope) => {
      const owner = ownerOf(scope);
      return owner != null && gone(owner, since) ? [owner] : [];
    });
    await Promise.all(stale.map((owner) => cache.forget(owner)));
    return stale.length;
  }

  const timer = setInterval(() => {
    sweep().catch((error: unknown) => logger.warn({ err: { type: error instanceof Error ? error.name : typeof error } }, "prompt cache sweep failed"));
  }, deps.intervalMs);
  timer.unref?.();

  return {
    sweep,
    [Symbol.dispose]() {
      clearInterval(timer);
    },
  };
}
