import type { Caller } from "../caller/caller";
import type { ModelConfig } from "../config/schema";

/** Whose cached prefixes to drop: an account's, or (in "key" scope) one of its keys'. */
export interface CacheOwner {
  accountId: string;
  keyId?: string;
}

/**
 * The prompt-cache scope of a request: derived from the authenticated caller alone, never from
 * anything the client sends, so no request can name its way into another account's cache. null
 * (cache off, or no caller) reuses nothing. A key scope names its account too, so erasing the
 * account finds it.
 */
export function cacheScopeOf(mode: ModelConfig["prompt_cache"], caller: Caller | undefined): string | null {
  if (caller == null || mode === "off") return null;
  if (mode === "key") return `key:${caller.account.id}:${caller.key.id}`;
  return `account:${caller.account.id}`;
}

/** Matches the scopes an owner's cached prefixes live under: with a key id, that key's scope and its account's. */
export function ownedBy(owner: CacheOwner): (scope: string) => boolean {
  const account = `account:${owner.accountId}`;
  const keys = `key:${owner.accountId}:`;
  return (scope) => scope === account || (owner.keyId == null ? scope.startsWith(keys) : scope === `${keys}${owner.keyId}`);
}

/** The owner a scope belongs to, for checking it against the store. */
export function ownerOf(scope: string): CacheOwner | null {
  const [kind, accountId, keyId] = scope.split(":");
  if (kind === "account" && accountId != null) return { accountId };
  if (kind === "key" && accountId != null && keyId != null) return { accountId, keyId };
  return null;
}
