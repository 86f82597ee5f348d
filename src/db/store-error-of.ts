import { StoreBusyError, StoreUnavailableError } from "../errors";

/** SQLite result codes (the primary code is the low byte of an extended one) that say the store, not the statement, failed. */
const UNAVAILABLE = new Set(["SQLITE_FULL", "SQLITE_IOERR", "SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_CORRUPT", "SQLITE_NOTADB"]);

/**
 * The client-facing error for a failure of the store itself: a write lock not had in time
 * (StoreBusyError) or a store that cannot write (StoreUnavailableError); null for anything else.
 * drizzle wraps the driver's error (its message quotes the statement and its parameters), so the
 * code is looked for along the `cause` chain and nothing of the message is kept.
 */
export function storeErrorOf(error: unknown): StoreBusyError | StoreUnavailableError | null {
  for (let cause = error, depth = 0; cause != null && depth < 5; cause = (cause as { cause?: unknown }).cause, depth++) {
    if (cause instanceof StoreBusyError || cause instanceof StoreUnavailableError) return cause;
    const code = (cause as { code?: unknown }).code;
    if (typeof code !== "string" || !code.startsWith("SQLITE_")) continue;
    const primary = code.split("_").slice(0, 2).join("_");
    if (primary === "SQLITE_BUSY" || primary === "SQLITE_LOCKED") return new StoreBusyError();
    if (UNAVAILABLE.has(primary)) return new StoreUnavailableError();
    return null;
  }
  return null;
}
