import { Database } from "bun:sqlite";
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { drizzle } from "drizzle-orm/bun-sqlite";
import { loadConfig } from "../config/load";
import { openStore, STORE_FILE_NAME } from "../db/client";
import { DataDirError } from "../db/data-dir-error";
import { migrate } from "../db/migrate";
import { openPgStore, redactDatabaseUrl, type PgStore } from "../db/pg-client";
import { migratePg } from "../db/pg-migrate";
import { embeddedMigrations as pgMigrations } from "../db/pg-migrations";
import * as schema from "../db/schema";
import { SharedStoreError } from "../db/shared-store-error";
import { copySqliteToPg } from "../store/copy-store";
import { defineCommand } from "./command-spec";
import { commonOptions } from "./common-options";
import { printTable } from "./local-admin";
import { UsageError } from "./parse-options";
import { runCommand } from "./run-command";

const spec = defineCommand({
  name: "store",
  description: "the store's schema, and moving a one-node SQLite store into the Postgres store a fleet shares",
  actions: {
    migrate: { synopsis: "migrate", description: "apply the embedded migrations to the store: Postgres when [storage] database_url is set (once for the whole fleet; nodes refuse to start on a schema behind their binary), else the SQLite store; idempotent" },
    copy: { synopsis: "copy --from sqlite:PATH [--to postgres://...]", description: "copy every key, account, usage row and audit entry into an empty Postgres store, then verify the copied chain" },
  },
  options: {
    config: commonOptions.config,
    init: commonOptions.init,
    json: commonOptions.json,
    from: { type: "string", value: "sqlite:PATH", description: "the SQLite store to copy: a data dir or its enclave.sqlite", actions: ["copy"] },
    to: {
      type: "string",
      value: "postgres://...",
      description: "the Postgres store; default [storage] database_url (ENCLAVE_STORAGE_DATABASE_URL), which keeps a password off the command line",
      actions: ["copy"],
    },
  },
  notes: ["Stop the node's server before a copy: rows it writes after the snapshot would stay behind in SQLite."],
});

/** `enclave store migrate|copy`. */
export async function storeCommand(args: string[]): Promise<number> {
  return runCommand(spec, args, async ({ values, positionals }) => {
    const [sub, ...rest] = positionals;
    if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}'`);
    const { config } = loadConfig({ path: values.config });
    if (sub === "migrate") {
      // With database_url set the store is Postgres: the data dir's SQLite file is not this node's store.
      if (config.storage.database_url !== "") {
        const applied = await withPg(config.storage.database_url, migratePg);
        console.log(`postgres ${redactDatabaseUrl(config.storage.database_url)}: ${applied} migration(s) applied, schema up to date (${pgMigrations.length} in all)`);
        return 0;
      }
      const storeFile = join(config.storage.data_dir, STORE_FILE_NAME);
      if (values.init !== true && !existsSync(storeFile))
        throw new DataDirError(`no store at ${storeFile}; run the command again with --init to create it there`, config.storage.data_dir);
      using store = openStore(config.storage.data_dir);
      migrate(store);
      console.log(`sqlite ${store.path}: schema up to date`);
      return 0;
    }
    if (sub === "copy") {
      const from = values.from ?? "";
      if (!from.startsWith("sqlite:") || from.length === "sqlite:".length) throw new UsageError("--from sqlite:PATH is required (a data dir or its enclave.sqlite)");
      const to = values.to ?? config.storage.database_url;
      if (to === "") throw new UsageError("--to postgres://... is required when [storage] database_url is not set");
      if (!/^postgres(ql)?:\/\//.test(to)) throw new UsageError(`--to expects a postgres:// URL; got ${redactDatabaseUrl(to)}`);
      using source = openSqliteSource(from.slice("sqlite:".length));
      const report = await withPg(to, async (target) => {
        await migratePg(target);
        return copySqliteToPg(source, target);
      });
      if (values.json) console.log(JSON.stringify(report, null, 2));
      else {
        printTable(Object.entries(report.rows).map(([table, rows]) => ({ table, rows })), ["table", "rows"]);
        console.log(`audit chain verified in ${redactDatabaseUrl(to)}: ${report.audit.entries} entries, head ${report.audit.head_hash}`);
      }
      return 0;
    }
    throw new UsageError(sub == null ? "expected migrate or copy" : `unknown action '${sub}'; expected migrate or copy`);
  });
}

/** Runs `work` on a Postgres store opened for it, closing it after; its failures become one line naming the endpoint. */
async function withPg<T>(url: string, work: (store: PgStore) => Promise<T>): Promise<T> {
  await using store = openPgStore(url, { max: 2 });
  try {
    return await work(store);
  } catch (error) {
    throw SharedStoreError.of(store.endpoint, error);
  }
}

/** The source store, migrated to this binary's schema first so every column the copy reads exists. */
function openSqliteSource(path: string) {
  const absolute = resolve(path);
  if (!existsSync(absolute)) throw new DataDirError(`no SQLite store at ${absolute}`, absolute);
  if (statSync(absolute).isDirectory()) {
    if (!existsSync(join(absolute, STORE_FILE_NAME))) throw new DataDirError(`no ${STORE_FILE_NAME} in ${absolute}`, absolute);
    const store = openStore(absolute);
    migrate(store);
    return store;
  }
  const sqlite = new Database(absolute, { strict: true });
  const store = { db: drizzle(sqlite, { schema }), sqlite, [Symbol.dispose]: () => sqlite.close() };
  migrate(store);
  return store;
}
