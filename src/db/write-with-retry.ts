import { StoreBusyError } from "../errors";
import { storeErrorOf } from "./store-error-of";

/**
 * Runs a write (an immediate-mode transaction) until it gets the store's write lock, for at most
 * `deadlineMs`. Each try already waits the connection's busy_timeout; a try that fails at once with
 * SQLITE_BUSY (a lock held during WAL recovery or a checkpoint) is retried after a short, jittered
 * pause. Past the deadline: StoreBusyError, which the API answers 503 with Retry-After. The body is
 * synchronous and its effects are rolled back on failure, so running it again is safe.
 */
export function writeWithRetry<T>(write: () => T, deadlineMs: number, now: () => number = Date.now): T {
  const deadline = now() + deadlineMs;
  for (;;) {
    try {
      return write();
    } catch (error) {
      if (!(storeErrorOf(error) instanceof StoreBusyError)) throw error;
      if (now() >= deadline) throw new StoreBusyError();
      Bun.sleepSync(5 + Math.random() * 20);
    }
  }
}
