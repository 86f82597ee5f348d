import { RequestTimeoutError } from "../errors";

/** A request's own signal joined with the server's deadline; dispose it when the request ends. */
export interface RequestDeadline extends Disposable {
  /** Aborts when the client goes away (its reason) or the deadline passes (a RequestTimeoutError). */
  readonly signal: AbortSignal;
  /** True once the deadline, not the client, ended the request. */
  readonly expired: boolean;
}

/**
 * The server-side bound on one request (`[limits] max_request_seconds`). A client that never
 * disconnects, a grammar that never lets the model stop, or a queue that never moves must still
 * end, or one caller could hold a sequence for good.
 */
export function requestDeadline(clientSignal: AbortSignal, seconds: number): RequestDeadline {
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new RequestTimeoutError(seconds)), seconds * 1000);
  timer.unref?.();
  return {
    signal: AbortSignal.any([clientSignal, timeout.signal]),
    get expired() {
      return timeout.signal.aborted;
    },
    [Symbol.dispose]() {
      clearTimeout(timer);
    },
  };
}
