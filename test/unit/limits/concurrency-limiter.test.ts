import { describe, expect, test } from "bun:test";
import { createConcurrencyLimiter, type ConcurrencyRequest } from "../../../src/limits/concurrency-limiter";
import { RateLimitError } from "../../../src/limits/rate-limit-error";

const request = (overrides: Partial<ConcurrencyRequest> = {}): ConcurrencyRequest => ({
  keyId: "k",
  keyLimit: 2,
  accountId: "a",
  accountLimit: 0,
  queueSize: 2,
  maxWaitMs: 10_000,
  ...overrides,
});

describe("concurrency limiter", () => {
  test("Should grant up to the key's limit at once - then queue in arrival order", async () => {
    const limiter = createConcurrencyLimiter();
    const first = await limiter.acquire(request());
    const second = await limiter.acquire(request());
    const order: string[] = [];
    const third = limiter.acquire(request()).then((lease) => (order.push("third"), lease));
    const fourth = limiter.acquire(request()).then((lease) => (order.push("fourth"), lease));
    expect(limiter.stats("k")).toEqual({ keyInFlight: 2, keyQueued: 2, accountInFlight: 0 });
    first.release();
    first.release(); // idempotent: frees one slot, not two
    await third;
    expect(order).toEqual(["third"]);
    second.release();
    await fourth;
    expect(order).toEqual(["third", "fourth"]);
    expect(limiter.stats("k").keyInFlight).toBe(2);
  });

  test("Should reject at once with 429 when the key's queue is full", async () => {
    const limiter = createConcurrencyLimiter({ retryAfterSeconds: 2 });
    await limiter.acquire(request({ keyLimit: 1, queueSize: 1 }));
    void limiter.acquire(request({ keyLimit: 1, queueSize: 1 }));
    const error = await limiter.acquire(request({ keyLimit: 1, queueSize: 1 })).catch((e) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ status: 429, code: "concurrency_queue_full", retryAfterSeconds: 2 });
  });

  test("Should reject with 429 after maxWaitMs - and leave the queue", async () => {
    const limiter = createConcurrencyLimiter();
    await limiter.acquire(request({ keyLimit: 1 }));
    const error = await limiter.acquire(request({ keyLimit: 1, maxWaitMs: 20 })).catch((e) => e);
    expect(error).toMatchObject({ status: 429, code: "concurrency_wait_exceeded" });
    expect(limiter.stats("k").keyQueued).toBe(0);
  });

  test("Should stop waiting when the client goes away - without taking a slot", async () => {
    const limiter = createConcurrencyLimiter();
    const held = await limiter.acquire(request({ keyLimit: 1 }));
    const abort = new AbortController();
    const waiting = limiter.acquire(request({ keyLimit: 1, signal: abort.signal }));
    abort.abort(new Error("client gone"));
    expect(await waiting.catch((e: Error) => e.message)).toBe("client gone");
    held.release();
    expect(limiter.stats("k")).toEqual({ keyInFlight: 0, keyQueued: 0, accountInFlight: 0 });
  });

  test("Should hold the account's limit across keys - and serve the account's waiters oldest first", async () => {
    const limiter = createConcurrencyLimiter();
    const a1 = await limiter.acquire(request({ keyId: "a", accountLimit: 2 }));
    const b1 = await limiter.acquire(request({ keyId: "b", accountLimit: 2 }));
    const order: string[] = [];
    const b2 = limiter.acquire(request({ keyId: "b", accountLimit: 2 })).then((lease) => (order.push("b2"), lease));
    const a2 = limiter.acquire(request({ keyId: "a", accountLimit: 2 })).then((lease) => (order.push("a2"), lease));
    expect(limiter.stats("a", "a").accountInFlight).toBe(2);
    a1.release();
    await b2;
    expect(order).toEqual(["b2"]);
    b1.release();
    await a2;
    expect(order).toEqual(["b2", "a2"]);
  });

  test("Should keep keys of different accounts independent", async () => {
    const limiter = createConcurrencyLimiter();
    await limiter.acquire(request({ keyId: "x", accountId: "one", keyLimit: 1, accountLimit: 1 }));
    await limiter.acquire(request({ keyId: "y", accountId: "two", keyLimit: 1, accountLimit: 1 }));
    expect(limiter.stats("y", "two")).toEqual({ keyInFlight: 1, keyQueued: 0, accountInFlight: 1 });
  });

  test("Should hold a parent's cap across its sub-accounts - and hand a freed slot to a sibling's waiter", async () => {
    const limiter = createConcurrencyLimiter();
    const under = (keyId: string, accountId: string) => request({ keyId, accountId, tree: [{ accountId, limit: 0 }, { accountId: "parent", limit: 1 }] });
    const left = await limiter.acquire(under("l", "left"));
    let granted = false;
    const right = limiter.acquire(under("r", "right")).then((lease) => ((granted = true), lease));
    await Bun.sleep(1);
    expect(granted).toBe(false);
    expect(limiter.subtreeInFlight("parent")).toBe(1);
    left.release();
    (await right).release();
    expect(granted).toBe(true);
    expect(limiter.subtreeInFlight("parent")).toBe(0);
  });
});
