import { createAccountService } from "../../src/accounts/account-service";
import { createKeyService } from "../../src/auth/key-service";
import type { SyncDb } from "../../src/db/sync-db";
import { createSqliteAccountRepository } from "../../src/store/sqlite-account-repository";
import { createSqliteKeyRepository } from "../../src/store/sqlite-key-repository";

/** The key and account services over a SQLite handle, with the built-in limits and no residency: what a test seeds a store with. */
export function sqliteAccountServices(db: SyncDb, pepper = "test-pepper") {
  const accounts = createSqliteAccountRepository(db);
  return {
    keys: createKeyService({ keys: createSqliteKeyRepository(db), accounts, pepper }),
    accounts: createAccountService({ accounts }),
  };
}
