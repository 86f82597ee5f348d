import { concurrencyRejection } from "./concurrency-rejection";

export interface ConcurrencyRequest {
  keyId: string;
  /** In-flight requests the key may have. */
  keyLimit: number;
  accountId: string;
  /** In-flight requests the account may have across its own keys; 0: no account limit. */
  accountLimit: number;
  /**
   * The request's account and every account above it, nearest first, each with the in-flight
   * requests its whole subtree may have (0: no cap of its own). Every entry is counted, capped or
   * not, so a cap set later sees what already runs. Omitted: the account alone, uncapped.
   */
  tree?: readonly { accountId: string; limit: number }[];
  /** Requests of this key that may wait; beyond it 429 at once. */
  queueSize: number;
  /** Longest wait before 429. */
  maxWaitMs: number;
  /** The client went away: stop waiting. */
  signal?: AbortSignal;
}

export interface ConcurrencyLease {
  /** Milliseconds spent waiting for the slot. */
  readonly queuedMs: number;
  /** Frees the slot; idempotent. */
  release(): void;
}

/** In-flight and waiting counts, for tests and diagnostics. */
export interface ConcurrencyStats {
  keyInFlight: number;
  keyQueued: number;
  accountInFlight: number;
}

/** What admission needs of a limiter: in process (one node) or on the shared store (a fleet). */
export interface ConcurrencyLimiter {
  /** A slot under every limit of the request, after waiting in the key's queue if need be; 429 when the queue is full or the wait too long. */
  acquire(request: ConcurrencyRequest): Promise<ConcurrencyLease>;
  /** Current counts of the key (and of the account's own keys). */
  stats(keyId: string, accountId?: string): Promise<ConcurrencyStats>;
  /** Requests in flight from the account and every account below it (as far as their requests named it in `tree`). */
  subtreeInFlight(accountId: string): Promise<number>;
}

interface Waiter {
  request: ConcurrencyRequest;
  grant: () => void;
}

export interface ConcurrencyLimiterDeps {
  now?: () => number;
  /** Seconds a rejected client is told to wait (Retry-After); default 1. */
  retryAfterSeconds?: number;
}

/**
 * Per-key, per-account and per-subtree in-flight limits with a bounded per-key FIFO wait queue. A
 * request holds its slots until `release()` (for a stream: when the stream ends or the client
 * leaves). A request counts against its key, its account's own keys, and the subtree of its
 * account and of every account above it, so a parent's cap holds across all of its sub-accounts.
 * Waiters are served in arrival order whenever all of their limits have room (a slot freed in one
 * sub-account may go to a sibling's waiter); a full queue, or a wait longer than `maxWaitMs`, is
 * a 429 with Retry-After.
 */
export function createConcurrencyLimiter(deps: ConcurrencyLimiterDeps = {}): ConcurrencyLimiter {
  const now = deps.now ?? Date.now;
  const retryAfterSeconds = deps.retryAfterSeconds ?? 1;
  const keyInFlight = new Map<string, number>();
  const accountInFlight = new Map<string, number>();
  const subtreeInFlight = new Map<string, number>();
  const keyQueued = new Map<string, number>();
  /** Oldest first, across accounts: a freed parent slot may be any of its sub-accounts' to take. */
  const waiters: Waiter[] = [];

  const bump = (map: Map<string, number>, id: string, delta: number) => {
    const next = (map.get(id) ?? 0) + delta;
    if (next === 0) map.delete(id);
    else map.set(id, next);
  };

  const treeOf = (request: ConcurrencyRequest) => request.tree ?? [{ accountId: request.accountId, limit: 0 }];

  const hasRoom = (request: ConcurrencyRequest) =>
    (keyInFlight.get(request.keyId) ?? 0) < request.keyLimit &&
    (request.accountLimit === 0 || (accountInFlight.get(request.accountId) ?? 0) < request.accountLimit) &&
    treeOf(request).every(({ accountId, limit }) => limit === 0 || (subtreeInFlight.get(accountId) ?? 0) < limit);

  function count(request: ConcurrencyRequest, delta: 1 | -1) {
    bump(keyInFlight, request.keyId, delta);
    bump(accountInFlight, request.accountId, delta);
    for (const { accountId } of treeOf(request)) bump(subtreeInFlight, accountId, delta);
  }

  function take(request: ConcurrencyRequest, startedAt: number): ConcurrencyLease {
    count(request, 1);
    let released = false;
    return {
      queuedMs: now() - startedAt,
      release() {
        if (released) return;
        released = true;
        count(request, -1);
        pump();
      },
    };
  }

  /** Grants waiting requests, oldest first, while all of their limits have room. */
  function pump() {
    for (let index = 0; index < waiters.length; ) {
      const waiter = waiters[index]!;
      if (hasRoom(waiter.request)) {
        waiters.splice(index, 1);
        waiter.grant();
      } else index++;
    }
  }

  return {
    acquire(request: ConcurrencyRequest): Promise<ConcurrencyLease> {
      const startedAt = now();
      if (request.signal?.aborted) return Promise.reject(request.signal.reason);
      if (hasRoom(request)) return Promise.resolve(take(request, startedAt));
      if ((keyQueued.get(request.keyId) ?? 0) >= request.queueSize) return Promise.reject(concurrencyRejection.queueFull(request, { inFlight: keyInFlight.get(request.keyId) ?? 0, queued: keyQueued.get(request.keyId) ?? 0 }, retryAfterSeconds));

      return new Promise<ConcurrencyLease>((resolve, reject) => {
        const waiter: Waiter = { request, grant: () => settle(() => resolve(take(request, startedAt))) };
        waiters.push(waiter);
        bump(keyQueued, request.keyId, 1);

        const onAbort = () => settle(() => reject(request.signal?.reason), true);
        const timer = setTimeout(() => settle(() => reject(concurrencyRejection.waitExceeded(request, retryAfterSeconds)), true), request.maxWaitMs);
        request.signal?.addEventListener("abort", onAbort, { once: true });

        let settled = false;
        function settle(finish: () => void, remove = false) {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          request.signal?.removeEventListener("abort", onAbort);
          bump(keyQueued, request.keyId, -1);
          if (remove) {
            const index = waiters.indexOf(waiter);
            if (index >= 0) waiters.splice(index, 1);
          }
          finish();
        }
      });
    },

    async stats(keyId, accountId) {
      return {
        keyInFlight: keyInFlight.get(keyId) ?? 0,
        keyQueued: keyQueued.get(keyId) ?? 0,
        accountInFlight: accountId == null ? 0 : (accountInFlight.get(accountId) ?? 0),
      };
    },

    async subtreeInFlight(accountId) {
      return subtreeInFlight.get(accountId) ?? 0;
    },
  };
}
