import { Database } from "bun:sqlite";
import { join } from "node:path";
import { drizzle } from "drizzle-orm/bun-sqlite";
import * as schema from "./schema";
import { createStoreHealth, type StoreHealth } from "./store-health";
import { StoreUnavailableError } from "../errors";
import { DataDirError } from "./data-dir-error";
import { prepareDataDir } from "./prepare-data-dir";
import { storeErrorOf } from "./store-error-of";
import { writeWithRetry } from "./write-with-retry";

export const STORE_FILE_NAME = "enclave.sqlite";

/** How long a writer waits for the write lock (the server and the CLI write the same file) before StoreBusyError. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

export interface Store extends Disposable {
  readonly db: ReturnType<typeof drizzle<typeof schema>>;
  readonly sqlite: Database;
  readonly path: string;
  /** Whether writes succeed; the usage recorder reports failures, new inference and /ready ask it. */
  readonly health: StoreHealth;
}

export interface StoreOptions {
  busyTimeoutMs?: number;
}

/**
 * Opens (creating if needed) the SQLite store in `dataDir`. WAL lets readers run beside the one
 * writer; busy_timeout (set first, so even switching to WAL waits) makes a second process (the CLI
 * next to a running server) wait instead of failing; secure_delete overwrites deleted rows so
 * purged data does not linger in free pages.
 *
 * Every `db.transaction` is immediate-mode: it takes the write lock at BEGIN, where SQLite waits
 * the busy timeout. A deferred one reads first and then asks for the lock, and SQLite answers
 * that upgrade SQLITE_BUSY at once (waiting could deadlock two readers), which is how concurrent
 * writers got 500s. A write still not done by the deadline throws StoreBusyError.
 */
export function openStore(dataDir: string, options: StoreOptions = {}): Store {
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  prepareDataDir(dataDir);
  const path = join(dataDir, STORE_FILE_NAME);
  const sqlite = openFile(path, dataDir);
  sqlite.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
  sqlite.exec("PRAGMA journal_mode = WAL");
  sqlite.exec("PRAGMA foreign_keys = ON");
  sqlite.exec("PRAGMA synchronous = NORMAL");
  sqlite.exec("PRAGMA secure_delete = ON");
  const db = drizzle(sqlite, { schema });
  const transaction = db.transaction.bind(db);
  db.transaction = ((write, config) => writeWithRetry(() => transaction(write, { behavior: "immediate", ...config }), busyTimeoutMs)) as typeof db.transaction;
  let disposed = false;
  const health = createStoreHealth();
  return {
    db,
    sqlite,
    path,
    health,
    [Symbol.dispose]() {
      if (disposed) return;
      disposed = true;
      health[Symbol.dispose]();
      sqlite.close();
    },
  };
}

/** The store file, or one DataDirError line when it exists but cannot be opened for writing (another owner, mode 0400). */
function openFile(path: string, dataDir: string): Database {
  try {
    return new Database(path, { create: true, strict: true });
  } catch (error) {
    if (!(storeErrorOf(error) instanceof StoreUnavailableError)) throw error;
    throw new DataDirError(`store ${path} cannot be opened for writing (${(error as { code?: string }).code}): enclave needs read and write permission on it`, dataDir);
  }
}
