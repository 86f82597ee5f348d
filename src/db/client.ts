import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { drizzle } from "drizzle-orm/bun-sqlite";
import * as schema from "./schema";

export const STORE_FILE_NAME = "enclave.sqlite";

export interface Store extends Disposable {
  readonly db: ReturnType<typeof drizzle<typeof schema>>;
  readonly sqlite: Database;
  readonly path: string;
}

/**
 * Opens (creating if needed) the SQLite store in `dataDir`. WAL lets readers run beside the one
 * writer; busy_timeout makes a second process (the CLI next to a running server) wait instead of
 * failing; secure_delete overwrites deleted rows so purged data does not linger in free pages.
 */
export function openStore(dataDir: string): Store {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, STORE_FILE_NAME);
  const sqlite = new Database(path, { create: true, strict: true });
  sqlite.exec("PRAGMA journal_mode = WAL");
  sqlite.exec("PRAGMA foreign_keys = ON");
  sqlite.exec("PRAGMA busy_timeout = 5000");
  sqlite.exec("PRAGMA synchronous = NORMAL");
  sqlite.exec("PRAGMA secure_delete = ON");
  const db = drizzle(sqlite, { schema });
  let disposed = false;
  return {
    db,
    sqlite,
    path,
    [Symbol.dispose]() {
      if (disposed) return;
      disposed = true;
      sqlite.close();
    },
  };
}
