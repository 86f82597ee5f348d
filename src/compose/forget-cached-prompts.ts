import type { PromptCache } from "../inference/engine";
import type { Privacy } from "../privacy/create-privacy";
import type { Services } from "./compose-services";

type Forgetting = Pick<Services, "keys" | "accounts"> & { privacy: Privacy };

/**
 * The services the admin routes use, with each change that locks an owner out also dropping its
 * cached prompt prefixes at once: revoking a key (its account's prefixes, or the key's own under
 * `prompt_cache = "key"`), deleting or erasing an account. The store stays the source of truth;
 * the cache only follows it.
 */
export function forgetCachedPrompts<T extends Forgetting>(services: T, cache: PromptCache | undefined): T {
  if (cache == null) return services;
  const { keys, accounts, privacy } = services;
  const forget = (owner: { accountId: string; keyId?: string }) => void cache.forget(owner);
  return {
    ...services,
    keys: {
      ...keys,
      async revoke(...args: Parameters<typeof keys.revoke>) {
        const row = await keys.revoke(...args);
        // Account scope: the account's prefixes go, the key's requests wrote into them; key scope: only that key's.
        forget({ accountId: row.accountId, keyId: row.id });
        return row;
      },
    },
    accounts: {
      ...accounts,
      async delete(...args: Parameters<typeof accounts.delete>) {
        const row = await accounts.delete(...args);
        forget({ accountId: row.id });
        return row;
      },
    },
    privacy: {
      ...privacy,
      dataSubject: {
        ...privacy.dataSubject,
        async erase(...args: Parameters<typeof privacy.dataSubject.erase>) {
          const report = await privacy.dataSubject.erase(...args);
          forget({ accountId: report.account_id });
          return report;
        },
      },
    },
  };
}
