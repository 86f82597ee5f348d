import { ownerOf, type CacheOwner } from "../inference/cache-scope";
import type { PromptCache } from "../inference/engine";
import type { Logger } from "../logging/logger";
import type { SubjectRepository } from "../store/subject-repository";

export interface PromptCacheSweepDeps {
  subjects: Pick<SubjectRepository, "lockedOut">;
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
  const { subjects, cache, logger } = deps;
  const now = deps.now ?? Date.now;
  let checkedSince = now();

  async function sweep(): Promise<number> {
    const since = checkedSince;
    checkedSince = now();
    const stale: CacheOwner[] = [];
    for (const scope of cache.scopes()) {
      const owner = ownerOf(scope);
      if (owner != null && (await subjects.lockedOut(owner, new Date(since)))) stale.push(owner);
    }
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
