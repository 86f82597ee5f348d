import type { PgDb } from "../db/pg-client";
import type { ConcurrencyLease, ConcurrencyLimiter, ConcurrencyRequest } from "./concurrency-limiter";
import { concurrencyRejection } from "./concurrency-rejection";
import { createLeaseTable, LEASE_CHANNEL, type FleetClaim } from "./pg-lease-table";

export interface PgConcurrencyLimiterDeps {
  db: PgDb;
  /** Names this node's rows; default a fresh UUID per process. */
  nodeId?: string;
  /** How long a row outlives its node's last heartbeat (beats every third of it); default 15 s. */
  leaseExpiryMs?: number;
  /** How often waiters re-check in case a notification was lost or a dead node's rows expired; default 500 ms. */
  pollMs?: number;
  now?: () => number;
  /** Seconds a rejected client is told to wait (Retry-After); default 1. */
  retryAfterSeconds?: number;
}

interface Waiter {
  claim: FleetClaim;
  request: ConcurrencyRequest;
  rowId: string;
  arrival: number;
  settled: boolean;
  grant(id: string): void;
  giveUp(error: unknown): void;
}

/**
 * The concurrency limiter of a fleet sharing one Postgres store: the same contract, limits and
 * 429s as the in-process limiter, kept in concurrency_leases (see the table for the lease and
 * expiry; see createLeaseTable for the lock).
 *
 * Arrival order across nodes: a request that cannot run at once gets a row whose `arrival` is
 * assigned under its account tree's lock, so the fleet has one queue per tree, in the order
 * requests reached the store. A slot is granted only to a request that still fits after every
 * older waiter of the tree that fits has had its turn, so a newcomer on any node never overtakes
 * an older waiter it competes with, and waiters of one key are served strictly oldest first. What
 * is not guaranteed is when: a waiter learns of a slot freed on another node from a NOTIFY
 * (milliseconds), or at its node's next poll when the notification was lost or the slot came back
 * by expiry; meanwhile the slot stays reserved for it. A waiter whose node dies holds its place
 * until its row expires. The queue bound (queue_size) is fleet-wide per key.
 */
export function createPgConcurrencyLimiter(deps: PgConcurrencyLimiterDeps): ConcurrencyLimiter & AsyncDisposable {
  const now = deps.now ?? Date.now;
  const retryAfterSeconds = deps.retryAfterSeconds ?? 1;
  const expiryMs = deps.leaseExpiryMs ?? 15_000;
  const table = createLeaseTable(deps.db, { nodeId: deps.nodeId ?? crypto.randomUUID(), expiryMs });
  const held = new Set<string>();
  /** This node's waiters, oldest arrival first. */
  let waiters: Waiter[] = [];
  let pumping = false;
  let pumpAgain = false;
  let disposed = false;
  /** Counts hints that a slot may have come free, so a request that queued meanwhile checks again. */
  let wakeups = 0;

  const heartbeat = setInterval(() => void table.renew([...held, ...waiters.map((w) => w.rowId)]).catch(() => {}), expiryMs / 3);
  const poll = setInterval(() => waiters.length > 0 && void pump(), deps.pollMs ?? 500);
  heartbeat.unref();
  poll.unref();
  const subscription = deps.db.$client
    .listen(LEASE_CHANNEL, (rootId) => {
      wakeups++;
      if (waiters.some((w) => w.claim.rootId === rootId)) void pump();
    })
    .catch(() => null);

  const claimOf = (request: ConcurrencyRequest): FleetClaim => {
    const tree = request.tree ?? [{ accountId: request.accountId, limit: 0 }];
    return {
      keyId: request.keyId,
      accountId: request.accountId,
      chain: tree.map((entry) => entry.accountId),
      chainLimits: tree.map((entry) => entry.limit),
      rootId: tree.at(-1)!.accountId,
      keyLimit: request.keyLimit,
      accountLimit: request.accountLimit,
      queueSize: request.queueSize,
    };
  };

  // A row whose delete fails is no longer renewed, so it stops counting within the expiry.
  const remove = (id: string) =>
    table.remove(id).then(
      () => {
        wakeups++;
        if (!disposed) void pump();
      },
      () => {},
    );

  function lease(id: string, startedAt: number): ConcurrencyLease {
    held.add(id);
    let released = false;
    return {
      queuedMs: now() - startedAt,
      release() {
        if (released) return;
        released = true;
        held.delete(id);
        void remove(id);
      },
    };
  }

  /** Offers slots to this node's waiters, oldest first; once one of a key does not fit, its younger ones cannot either. */
  async function pump() {
    if (disposed) return;
    if (pumping) return void (pumpAgain = true);
    pumping = true;
    try {
      do {
        pumpAgain = false;
        const blocked = new Set<string>();
        for (const waiter of [...waiters]) {
          if (waiter.settled || blocked.has(waiter.claim.keyId)) continue;
          // The store failed: the waiters keep their rows and try again at the next wake-up or poll.
          const outcome = await table.attempt(waiter.claim, waiter.rowId).catch(() => null);
          if (outcome == null) break;
          // Its row expired (this node stalled past the expiry) and the queue filled behind it.
          if (outcome.kind === "full") waiter.giveUp(concurrencyRejection.queueFull(waiter.request, outcome, retryAfterSeconds));
          else if (waiter.settled) void remove(outcome.id);
          else if (outcome.kind === "granted") waiter.grant(outcome.id);
          else {
            blocked.add(waiter.claim.keyId);
            if (outcome.id !== waiter.rowId) Object.assign(waiter, { rowId: outcome.id, arrival: outcome.arrival });
          }
        }
        waiters = waiters.filter((w) => !w.settled).sort((a, b) => a.arrival - b.arrival);
      } while (pumpAgain && !disposed);
    } finally {
      pumping = false;
    }
  }

  function wait(request: ConcurrencyRequest, claim: FleetClaim, row: { id: string; arrival: number }, startedAt: number) {
    return new Promise<ConcurrencyLease>((resolve, reject) => {
      const waiter: Waiter = {
        claim,
        request,
        rowId: row.id,
        arrival: row.arrival,
        settled: false,
        grant: (id) => settle(() => resolve(lease(id, startedAt))),
        giveUp: (error) =>
          settle(() => {
            void remove(waiter.rowId);
            reject(error);
          }),
      };
      const onAbort = () => waiter.giveUp(request.signal?.reason);
      const wait = Math.max(0, request.maxWaitMs - (now() - startedAt));
      const timer = setTimeout(() => waiter.giveUp(concurrencyRejection.waitExceeded(request, retryAfterSeconds)), wait);
      request.signal?.addEventListener("abort", onAbort, { once: true });
      waiters.push(waiter);
      waiters.sort((a, b) => a.arrival - b.arrival);

      function settle(finish: () => void) {
        if (waiter.settled) return;
        waiter.settled = true;
        clearTimeout(timer);
        request.signal?.removeEventListener("abort", onAbort);
        waiters = waiters.filter((w) => w !== waiter);
        finish();
      }
    });
  }

  return {
    async acquire(request) {
      const startedAt = now();
      if (request.signal?.aborted) throw request.signal.reason;
      if (disposed) throw new Error("the concurrency limiter was disposed");
      const claim = claimOf(request);
      const wakeupsBefore = wakeups;
      const outcome = await table.attempt(claim, null);
      if (outcome.kind === "granted") return lease(outcome.id, startedAt);
      if (outcome.kind === "full") throw concurrencyRejection.queueFull(request, outcome, retryAfterSeconds);
      if (request.signal?.aborted) {
        void remove(outcome.id);
        throw request.signal.reason;
      }
      const waiting = wait(request, claim, outcome, startedAt);
      // A slot freed while this request was queuing found no waiter here to tell.
      if (wakeups !== wakeupsBefore) void pump();
      return waiting;
    },

    stats: (keyId, accountId) => table.stats(keyId, accountId),
    subtreeInFlight: (accountId) => table.subtreeInFlight(accountId),

    /** Stops the heartbeat and gives back every row this node owns, held or waiting; waiters get an error. */
    async [Symbol.asyncDispose]() {
      if (disposed) return;
      disposed = true;
      clearInterval(heartbeat);
      clearInterval(poll);
      for (const waiter of [...waiters]) waiter.giveUp(new Error("the concurrency limiter was disposed"));
      await (await subscription)?.unlisten();
      await table.removeNode();
    },
  };
}
