import { StoreBusyError, StoreUnavailableError } from "../errors";

/** SQLite result codes (the primary code is the low byte of an extended one) that say the store, not the statement, failed. */
const UNAVAILABLE = new Set(["SQLITE_FULL", "SQLITE_IOERR", "SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_CORRUPT", "SQLITE_NOTADB"]);

/**
 * Postgres SQLSTATE classes and codes that say the server, not the statement, failed: connection
 * exceptions (08), insufficient resources (53: disk full, too many connections), operator
 * intervention (57: shutdown), a read-only server (25006).
 */
const PG_UNAVAILABLE_CLASSES = new Set(["08", "53", "57"]);
/** Serialization failure, deadlock and lock not available: another writer won; a later try may not. */
const PG_BUSY = new Set(["40001", "40P01", "55P03"]);

/** The same verdict for an error of Bun's Postgres client: its own codes (ERR_POSTGRES_*) for the connection, the SQLSTATE in `errno` for the server. */
function pgStoreErrorOf(cause: { code: string; errno?: unknown }): StoreBusyError | StoreUnavailableError | null {
  if (cause.code !== "ERR_POSTGRES_SERVER_ERROR") return new StoreUnavailableError();
  const state = typeof cause.errno === "string" ? cause.errno : "";
  if (PG_BUSY.has(state)) return new StoreBusyError();
  if (PG_UNAVAILABLE_CLASSES.has(state.slice(0, 2)) || state === "25006") return new StoreUnavailableError();
  return null;
}

/**
 * The client-facing error for a failure of the store itself: a write lock not had in time
 * (StoreBusyError) or a store that cannot write (StoreUnavailableError); null for anything else.
 * SQLite and Postgres alike.
 * drizzle wraps the driver's error (its message quotes the statement and its parameters), so the
 * code is looked for along the `cause` chain and nothing of the message is kept.
 */
export function storeErrorOf(error: unknown): StoreBusyError | StoreUnavailableError | null {
  for (let cause = error, depth = 0; cause != null && depth < 5; cause = (cause as { cause?: unknown }).cause, depth++) {
    if (cause instanceof StoreBusyError || cause instanceof StoreUnavailableError) return cause;
    const code = (cause as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("ERR_POSTGRES_")) return pgStoreErrorOf(cause as { code: string; errno?: unknown });
    if (typeof code !== "string" || !code.startsWith("SQLITE_")) continue;
    const primary = code.split("_").slice(0, 2).join("_");
    if (primary === "SQLITE_BUSY" || primary === "SQLITE_LOCKED") return new StoreBusyError();
    if (UNAVAILABLE.has(primary)) return new StoreUnavailableError();
    return null;
  }
  return null;
}
