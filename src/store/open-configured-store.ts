import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config/schema";
import { openStore, STORE_FILE_NAME, type Store } from "../db/client";
import { DataDirError } from "../db/data-dir-error";
import { migrate } from "../db/migrate";
import { openPgStore, type PgDb } from "../db/pg-client";
import { pgSchemaState } from "../db/pg-migrate";
import { SharedStoreError } from "../db/shared-store-error";
import { createStoreHealth, type StoreHealth } from "../db/store-health";
import { pgRepositories, sqliteRepositories, type StoreRepositories } from "./store-repositories";

/** The store `[storage]` names, open: the embedded SQLite file, or the Postgres store a fleet shares. */
export interface ConfiguredStore extends AsyncDisposable {
  readonly kind: "sqlite" | "postgres";
  /** The SQLite file, or the Postgres URL without its password: what messages may show. */
  readonly location: string;
  readonly repositories: StoreRepositories;
  /** Whether writes succeed; the usage recorder reports failures, new inference and /ready ask it. */
  readonly health: StoreHealth;
  /** The embedded store, for what only a file can do (backup, restore, the instance row); null on Postgres. */
  readonly sqlite: Store | null;
  /** The Postgres handle, for what a fleet shares beyond the aggregates (concurrency leases, rate windows); null on SQLite. */
  readonly pg: PgDb | null;
}

export interface OpenStoreOptions {
  /** Create the SQLite store when the data dir has none (serve, `--init`); otherwise that is an error naming the fix. */
  create: boolean;
  /** Names the config in the error for a missing store. */
  configFile?: string | null;
}

/**
 * Opens the configured store. SQLite is migrated on open, as it always was: one file, one
 * binary. A shared Postgres store is migrated only by `enclave store migrate`, explicitly: nodes
 * of other versions read the same schema, so a node never changes it as a side effect of
 * starting; one that finds the schema behind (or ahead of) its binary refuses with the fix.
 */
export async function openConfiguredStore(config: Readonly<Config>, options: OpenStoreOptions): Promise<ConfiguredStore> {
  const url = config.storage.database_url;
  if (url === "") return openSqlite(config, options);
  const pg = openPgStore(url);
  try {
    const state = await pgSchemaState(pg).catch((error: unknown) => {
      throw SharedStoreError.of(pg.endpoint, error);
    });
    if (state.ahead) throw new SharedStoreError(`postgres ${pg.endpoint}: the store's schema is newer than this binary knows; run the newer enclave, or restore a backup taken before its upgrade`);
    if (state.behind > 0) throw new SharedStoreError(`postgres ${pg.endpoint}: ${state.behind} schema migration(s) not applied; run \`enclave store migrate\` once for the fleet`);
  } catch (error) {
    await pg[Symbol.asyncDispose]();
    throw error;
  }
  const health = createStoreHealth();
  return {
    kind: "postgres",
    location: pg.endpoint,
    repositories: pgRepositories(pg.db),
    health,
    sqlite: null,
    pg: pg.db,
    async [Symbol.asyncDispose]() {
      health[Symbol.dispose]();
      await pg[Symbol.asyncDispose]();
    },
  };
}

function openSqlite(config: Readonly<Config>, options: OpenStoreOptions): ConfiguredStore {
  const file = join(config.storage.data_dir, STORE_FILE_NAME);
  if (!options.create && !existsSync(file))
    throw new DataDirError(
      `no store at ${file} (config: ${options.configFile ?? "none found, built-in defaults"}); run the command again with --init to create it there, or point --config or ENCLAVE_CONFIG at the server's config`,
      config.storage.data_dir,
    );
  const store = openStore(config.storage.data_dir);
  migrate(store);
  return sqliteConfiguredStore(store);
}

/** An open, migrated SQLite store as the configured one; disposing it closes the store. */
export function sqliteConfiguredStore(store: Store): ConfiguredStore {
  return {
    kind: "sqlite",
    location: store.path,
    repositories: sqliteRepositories(store),
    health: store.health,
    sqlite: store,
    pg: null,
    async [Symbol.asyncDispose]() {
      store[Symbol.dispose]();
    },
  };
}
