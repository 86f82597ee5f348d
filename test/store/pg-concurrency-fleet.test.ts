import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { ConcurrencyRequest } from "../../src/limits/concurrency-limiter";
import { createPgConcurrencyLimiter, type PgConcurrencyLimiterDeps } from "../../src/limits/pg-concurrency-limiter";
import { eventually, pgLimitsStore } from "../support/pg-limits-store";
import { reachablePostgres } from "../support/pg-test-database";

const request = (overrides: Partial<ConcurrencyRequest> = {}): ConcurrencyRequest => ({
  keyId: "k",
  keyLimit: 1,
  accountId: "a",
  accountLimit: 0,
  queueSize: 8,
  maxWaitMs: 10_000,
  ...overrides,
});

const serverUrl = await reachablePostgres();

describe.skipIf(serverUrl == null)("concurrency limits across a fleet of nodes on one Postgres store", () => {
  let store: Awaited<ReturnType<typeof pgLimitsStore>>;
  let nodes: ReturnType<typeof createPgConcurrencyLimiter>[];
  /** A limiter with its own connection pool: one more node of the fleet. */
  const node = (deps: Omit<PgConcurrencyLimiterDeps, "db"> = {}) => {
    const limiter = createPgConcurrencyLimiter({ db: store.node(), ...deps });
    nodes.push(limiter);
    return limiter;
  };
  beforeEach(async () => {
    store = await pgLimitsStore(serverUrl!);
    nodes = [];
  });
  afterEach(async () => {
    for (const limiter of nodes) await limiter[Symbol.asyncDispose]();
    await store[Symbol.asyncDispose]();
  });

  test("Should never run more than the key's and the parent's caps across two nodes - every request still gets its turn", async () => {
    const [a, b] = [node(), node()];
    let inFlight = { key: 0, parent: 0 };
    let most = { key: 0, parent: 0 };
    // Key "k" (cap 3) under "left", and key "j" under "right", share the parent's cap of 4.
    const under = (keyId: string, accountId: string) =>
      request({ keyId, accountId, keyLimit: 3, queueSize: 40, tree: [{ accountId, limit: 0 }, { accountId: "parent", limit: 4 }] });
    const run = async (limiter: typeof a, req: ConcurrencyRequest) => {
      const lease = await limiter.acquire(req);
      if (req.keyId === "k") inFlight.key++;
      inFlight.parent++;
      most = { key: Math.max(most.key, inFlight.key), parent: Math.max(most.parent, inFlight.parent) };
      await Bun.sleep(10 + Math.random() * 15);
      if (req.keyId === "k") inFlight.key--;
      inFlight.parent--;
      lease.release();
    };
    await Promise.all(Array.from({ length: 40 }, (_, i) => run(i % 2 === 0 ? a : b, i % 4 < 2 ? under("k", "left") : under("j", "right"))));
    // The parent's cap is reached (the nodes do contend) and neither cap is ever passed.
    expect(most.parent).toBe(4);
    expect(most.key).toBeLessThanOrEqual(3);
    await eventually(async () => (await a.subtreeInFlight("parent")) === 0);
  });

  test("Should hand a slot freed on node A to the waiter on node B - told by NOTIFY, not by polling", async () => {
    const a = node();
    const b = node({ pollMs: 60_000 });
    const held = await a.acquire(request());
    let granted = false;
    const waiting = b.acquire(request()).then((lease) => ((granted = true), lease));
    await eventually(async () => (await a.stats("k")).keyQueued === 1);
    expect(granted).toBe(false);
    held.release();
    const started = performance.now();
    (await waiting).release();
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  test("Should admit waiters on different nodes in the order they arrived at the store", async () => {
    const [a, b] = [node(), node()];
    const held = await a.acquire(request());
    const order: string[] = [];
    const first = b.acquire(request()).then((lease) => (order.push("first, on B"), lease));
    await eventually(async () => (await a.stats("k")).keyQueued === 1);
    const second = a.acquire(request()).then((lease) => (order.push("second, on A"), lease));
    await eventually(async () => (await a.stats("k")).keyQueued === 2);
    held.release();
    (await first).release();
    (await second).release();
    expect(order).toEqual(["first, on B", "second, on A"]);
  });

  test("Should bound the key's queue across the fleet - 429 with Retry-After on the node whose request overflows it", async () => {
    const [a, b] = [node({ retryAfterSeconds: 3 }), node()];
    await a.acquire(request({ queueSize: 1 }));
    void b.acquire(request({ queueSize: 1 })).catch(() => {});
    await eventually(async () => (await a.stats("k")).keyQueued === 1);
    const error = await a.acquire(request({ queueSize: 1 })).catch((e) => e);
    expect(error).toMatchObject({ status: 429, code: "concurrency_queue_full", retryAfterSeconds: 3 });
  });

  test("Should remove an aborted waiter from the fleet's queue - the next waiter gets the slot", async () => {
    const [a, b] = [node(), node()];
    const held = await a.acquire(request());
    const abort = new AbortController();
    const gone = b.acquire(request({ signal: abort.signal })).catch((e: Error) => e.message);
    await eventually(async () => (await a.stats("k")).keyQueued === 1);
    abort.abort(new Error("client gone"));
    expect(await gone).toBe("client gone");
    await eventually(async () => (await a.stats("k")).keyQueued === 0);
    const next = a.acquire(request());
    held.release();
    (await next).release();
    await eventually(async () => (await b.stats("k")).keyInFlight === 0);
  });

  test("Should keep a slot held longer than the expiry while its node heartbeats - a waiter elsewhere keeps waiting", async () => {
    const a = node({ leaseExpiryMs: 300 });
    const b = node({ pollMs: 50 });
    const held = await a.acquire(request());
    const waiting = b.acquire(request({ maxWaitMs: 1_000 })).catch((e) => e);
    expect(await waiting).toMatchObject({ status: 429, code: "concurrency_wait_exceeded" });
    expect((await b.stats("k")).keyInFlight).toBe(1);
    held.release();
  });

  test("Should give back the leases of a node killed with SIGKILL once they expire - a waiter elsewhere then runs", async () => {
    const expiryMs = 1_000;
    const doomed = Bun.spawn(["bun", join(import.meta.dir, "../support/lease-holder.ts"), store.url, String(expiryMs)], { stdout: "pipe", stderr: "inherit" });
    const reader = doomed.stdout.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("held\n");
    const survivor = node({ pollMs: 100 });
    const waiting = survivor.acquire(request());
    await eventually(async () => (await survivor.stats("k")).keyQueued === 1);
    const killedAt = performance.now();
    doomed.kill("SIGKILL");
    await doomed.exited;
    expect((await survivor.stats("k")).keyInFlight).toBe(1);
    (await waiting).release();
    const waited = performance.now() - killedAt;
    expect(waited).toBeLessThan(expiryMs + 1_000);
  });
});
