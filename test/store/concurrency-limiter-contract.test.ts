import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { createConcurrencyLimiter, type ConcurrencyLimiter, type ConcurrencyRequest } from "../../src/limits/concurrency-limiter";
import { createPgConcurrencyLimiter } from "../../src/limits/pg-concurrency-limiter";
import { RateLimitError } from "../../src/limits/rate-limit-error";
import { reachablePostgres } from "../support/pg-test-database";
import { eventually, pgLimitsStore } from "../support/pg-limits-store";

const request = (overrides: Partial<ConcurrencyRequest> = {}): ConcurrencyRequest => ({
  keyId: "k",
  keyLimit: 2,
  accountId: "a",
  accountLimit: 0,
  queueSize: 2,
  maxWaitMs: 10_000,
  ...overrides,
});

type Open = (options?: { retryAfterSeconds?: number }) => Promise<ConcurrencyLimiter & AsyncDisposable>;

const serverUrl = await reachablePostgres();
const backends: { name: string; open: Open }[] = [
  { name: "in process", open: async (options) => Object.assign(createConcurrencyLimiter(options), { async [Symbol.asyncDispose]() {} }) },
  ...(serverUrl == null
    ? []
    : [
        {
          name: "postgres",
          open: (async (options) => {
            const store = await pgLimitsStore(serverUrl);
            const limiter = createPgConcurrencyLimiter({ db: store.node(), ...options });
            const disposeLimiter = limiter[Symbol.asyncDispose];
            return Object.assign(limiter, {
              async [Symbol.asyncDispose]() {
                await disposeLimiter();
                await store[Symbol.asyncDispose]();
              },
            });
          }) satisfies Open,
        },
      ]),
];

for (const { name, open } of backends)
  describe(`concurrency limiter contract on ${name}`, () => {
    let opened: (ConcurrencyLimiter & AsyncDisposable)[] = [];
    const limiterWith: Open = async (options) => {
      const limiter = await open(options);
      opened.push(limiter);
      return limiter;
    };
    /** Waits until `count` requests of the key wait: arrival order is the order requests reach the store. */
    const queued = (limiter: ConcurrencyLimiter, count: number, keyId = "k") => eventually(async () => (await limiter.stats(keyId)).keyQueued === count);
    beforeEach(() => {
      opened = [];
    });
    afterEach(async () => {
      for (const limiter of opened) await limiter[Symbol.asyncDispose]();
    });

    test("Should grant up to the key's limit at once - then queue in arrival order", async () => {
      const limiter = await limiterWith();
      const first = await limiter.acquire(request());
      const second = await limiter.acquire(request());
      const order: string[] = [];
      const third = limiter.acquire(request()).then((lease) => (order.push("third"), lease));
      await queued(limiter, 1);
      const fourth = limiter.acquire(request()).then((lease) => (order.push("fourth"), lease));
      await queued(limiter, 2);
      expect(await limiter.stats("k")).toEqual({ keyInFlight: 2, keyQueued: 2, accountInFlight: 0 });
      first.release();
      first.release(); // idempotent: frees one slot, not two
      await third;
      expect(order).toEqual(["third"]);
      second.release();
      await fourth;
      expect(order).toEqual(["third", "fourth"]);
      expect((await limiter.stats("k")).keyInFlight).toBe(2);
    });

    test("Should reject at once with 429 when the key's queue is full", async () => {
      const limiter = await limiterWith({ retryAfterSeconds: 2 });
      await limiter.acquire(request({ keyLimit: 1, queueSize: 1 }));
      void limiter.acquire(request({ keyLimit: 1, queueSize: 1 })).catch(() => {});
      await queued(limiter, 1);
      const error = await limiter.acquire(request({ keyLimit: 1, queueSize: 1 })).catch((e) => e);
      expect(error).toBeInstanceOf(RateLimitError);
      expect(error).toMatchObject({ status: 429, code: "concurrency_queue_full", retryAfterSeconds: 2 });
      expect(error.message).toBe("key 'k' has 1 requests in flight (limit 1) and 1 waiting (queue size 1); retry later");
    });

    test("Should reject with 429 after maxWaitMs - and leave the queue", async () => {
      const limiter = await limiterWith();
      await limiter.acquire(request({ keyLimit: 1 }));
      const error = await limiter.acquire(request({ keyLimit: 1, maxWaitMs: 20 })).catch((e) => e);
      expect(error).toMatchObject({ status: 429, code: "concurrency_wait_exceeded" });
      await queued(limiter, 0);
    });

    test("Should stop waiting when the client goes away - without taking a slot", async () => {
      const limiter = await limiterWith();
      const held = await limiter.acquire(request({ keyLimit: 1 }));
      const abort = new AbortController();
      const waiting = limiter.acquire(request({ keyLimit: 1, signal: abort.signal }));
      await queued(limiter, 1);
      abort.abort(new Error("client gone"));
      expect(await waiting.catch((e: Error) => e.message)).toBe("client gone");
      held.release();
      await eventually(async () => (await limiter.stats("k")).keyInFlight === 0);
      // On Postgres the waiter's queue row goes in its own write after its promise rejected (CI once read it a moment before)
      await queued(limiter, 0);
      expect(await limiter.stats("k")).toEqual({ keyInFlight: 0, keyQueued: 0, accountInFlight: 0 });
    });

    test("Should hold the account's limit across keys - and serve the account's waiters oldest first", async () => {
      const limiter = await limiterWith();
      const a1 = await limiter.acquire(request({ keyId: "a", accountLimit: 2 }));
      const b1 = await limiter.acquire(request({ keyId: "b", accountLimit: 2 }));
      const order: string[] = [];
      const b2 = limiter.acquire(request({ keyId: "b", accountLimit: 2 })).then((lease) => (order.push("b2"), lease));
      await queued(limiter, 1, "b");
      const a2 = limiter.acquire(request({ keyId: "a", accountLimit: 2 })).then((lease) => (order.push("a2"), lease));
      await queued(limiter, 1, "a");
      expect((await limiter.stats("a", "a")).accountInFlight).toBe(2);
      a1.release();
      await b2;
      expect(order).toEqual(["b2"]);
      b1.release();
      await a2;
      expect(order).toEqual(["b2", "a2"]);
    });

    test("Should keep keys of different accounts independent", async () => {
      const limiter = await limiterWith();
      await limiter.acquire(request({ keyId: "x", accountId: "one", keyLimit: 1, accountLimit: 1 }));
      await limiter.acquire(request({ keyId: "y", accountId: "two", keyLimit: 1, accountLimit: 1 }));
      expect(await limiter.stats("y", "two")).toEqual({ keyInFlight: 1, keyQueued: 0, accountInFlight: 1 });
    });

    test("Should hold a parent's cap across its sub-accounts - and hand a freed slot to a sibling's waiter", async () => {
      const limiter = await limiterWith();
      const under = (keyId: string, accountId: string) => request({ keyId, accountId, tree: [{ accountId, limit: 0 }, { accountId: "parent", limit: 1 }] });
      const left = await limiter.acquire(under("l", "left"));
      let granted = false;
      const right = limiter.acquire(under("r", "right")).then((lease) => ((granted = true), lease));
      await queued(limiter, 1, "r");
      expect(granted).toBe(false);
      expect(await limiter.subtreeInFlight("parent")).toBe(1);
      left.release();
      (await right).release();
      expect(granted).toBe(true);
      await eventually(async () => (await limiter.subtreeInFlight("parent")) === 0);
    });
  });
