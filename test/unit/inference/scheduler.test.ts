import { describe, expect, test } from "bun:test";
import { OverloadedError } from "../../../src/errors";
import { createScheduler } from "../../../src/inference/scheduler";

const never = new AbortController().signal;

describe("scheduler", () => {
  test("holds at most `parallel` slots at once", async () => {
    const scheduler = createScheduler({ name: "m", parallel: 2, queueSize: 4 });
    const first = await scheduler.acquire(never);
    const second = await scheduler.acquire(never);
    expect(new Set([first.slot, second.slot]).size).toBe(2);
    let third = false;
    void scheduler.acquire(never).then(() => (third = true));
    await Bun.sleep(1);
    expect(third).toBe(false);
    expect(scheduler.busy).toBe(2);
    expect(scheduler.queued).toBe(1);
    first.release();
    await Bun.sleep(1);
    expect(third).toBe(true);
  });

  test("rejects at once with 503 and Retry-After when the queue is full", async () => {
    const scheduler = createScheduler({ name: "m", parallel: 1, queueSize: 1, retryAfterSeconds: 2 });
    await scheduler.acquire(never);
    void scheduler.acquire(never);
    const error = await scheduler.acquire(never).catch((caught) => caught);
    expect(error).toBeInstanceOf(OverloadedError);
    expect(error.status).toBe(503);
    expect(error.retryAfterSeconds).toBe(2);
    expect(scheduler.queued).toBe(1);
  });

  test("with queue_size 0 a busy model answers 503 instead of queueing", async () => {
    const scheduler = createScheduler({ name: "m", parallel: 1, queueSize: 0 });
    await scheduler.acquire(never);
    await expect(scheduler.acquire(never)).rejects.toBeInstanceOf(OverloadedError);
  });

  test("aborting while queued gives up the place and the next waiter gets the slot", async () => {
    const scheduler = createScheduler({ name: "m", parallel: 1, queueSize: 2 });
    const held = await scheduler.acquire(never);
    const controller = new AbortController();
    const abandoned = scheduler.acquire(controller.signal);
    const patient = scheduler.acquire(never);
    controller.abort(new Error("client went away"));
    await expect(abandoned).rejects.toThrow("client went away");
    expect(scheduler.queued).toBe(1);
    held.release();
    expect((await patient).slot).toBe(held.slot);
  });

  test("an already aborted signal never takes a slot", async () => {
    const scheduler = createScheduler({ name: "m", parallel: 1, queueSize: 1 });
    await expect(scheduler.acquire(AbortSignal.abort())).rejects.toBeDefined();
    expect(scheduler.busy).toBe(0);
  });

  test("serves waiters first in, first out", async () => {
    const scheduler = createScheduler({ name: "m", parallel: 1, queueSize: 5 });
    const held = await scheduler.acquire(never);
    const order: number[] = [];
    const waiters = [0, 1, 2, 3].map((index) =>
      scheduler.acquire(never).then((lease) => {
        order.push(index);
        lease.release();
      }),
    );
    held.release();
    await Promise.all(waiters);
    expect(order).toEqual([0, 1, 2, 3]);
  });

  test("releasing twice does not free a slot someone else holds", async () => {
    const scheduler = createScheduler({ name: "m", parallel: 1, queueSize: 1 });
    const first = await scheduler.acquire(never);
    first.release();
    await scheduler.acquire(never);
    first.release();
    expect(scheduler.busy).toBe(1);
  });

  test("reports idle when the last slot is released", async () => {
    const scheduler = createScheduler({ name: "m", parallel: 2, queueSize: 1 });
    let idle = 0;
    scheduler.onIdle(() => idle++);
    const a = await scheduler.acquire(never);
    const b = await scheduler.acquire(never);
    a.release();
    expect(idle).toBe(0);
    b.release();
    expect(idle).toBe(1);
  });

  test("disposing rejects the queued requests", async () => {
    const scheduler = createScheduler({ name: "m", parallel: 1, queueSize: 1 });
    await scheduler.acquire(never);
    const queued = scheduler.acquire(never);
    scheduler[Symbol.dispose]();
    await expect(queued).rejects.toBeInstanceOf(OverloadedError);
    await expect(scheduler.acquire(never)).rejects.toBeInstanceOf(OverloadedError);
  });

  describe("prompt cache", () => {
    /** A pool whose slots' caches are token lists the test writes, as a holder's generation would. */
    function cachedPool(parallel: number) {
      const caches: number[][] = Array.from({ length: parallel }, () => []);
      const cleared: number[] = [];
      const evicted: (string | null)[] = [];
      const scheduler = createScheduler({
        name: "m",
        parallel,
        queueSize: 4,
        cachedTokens: (slot) => caches[slot]!,
        clearSlot: async (slot, evictedScope) => {
          cleared.push(slot);
          evicted.push(evictedScope);
          caches[slot] = [];
        },
      });
      return { scheduler, caches, cleared, evicted };
    }
    const history = [1, 2, 3, 4, 5, 6, 7, 8];

    test("Should name the evicted scope when another scope takes the slot, and none when a scope is forgotten - only an eviction may be saved", async () => {
      const { scheduler, caches, evicted } = cachedPool(1);
      const a = await scheduler.acquire(never, { scope: "account:a", tokens: history });
      caches[a.slot] = history;
      a.release();
      const b = await scheduler.acquire(never, { scope: "account:b", tokens: history });
      caches[b.slot] = history;
      b.release();
      await scheduler.forget((scope) => scope === "account:b");
      expect(evicted).toEqual(["account:a", null]);
    });

    test("Should hand a repeat of the same scope the slot holding its prefix - not the next free one", async () => {
      const { scheduler, caches, cleared } = cachedPool(2);
      const first = await scheduler.acquire(never, { scope: "account:a", tokens: history });
      caches[first.slot] = history;
      first.release();
      const second = await scheduler.acquire(never, { scope: "account:a", tokens: [...history, 9, 10] });
      expect(second.slot).toBe(first.slot);
      expect(caches[second.slot]).toEqual(history);
      expect(cleared).toEqual([]);
    });

    test("Should erase another scope's tokens before handing the slot out - an account never runs on another's cache", async () => {
      const { scheduler, caches, cleared } = cachedPool(1);
      const a = await scheduler.acquire(never, { scope: "account:a", tokens: history });
      caches[a.slot] = history;
      a.release();
      const b = await scheduler.acquire(never, { scope: "account:b", tokens: history });
      expect(cleared).toEqual([b.slot]);
      expect(caches[b.slot]).toEqual([]);
    });

    test("Should erase before a queued request of another scope gets the released slot - the hand-over checks too", async () => {
      const { scheduler, caches, cleared } = cachedPool(1);
      const a = await scheduler.acquire(never, { scope: "account:a", tokens: history });
      const waiting = scheduler.acquire(never, { scope: "account:b", tokens: history });
      caches[a.slot] = history;
      a.release();
      const b = await waiting;
      expect(cleared).toEqual([b.slot]);
      expect(caches[b.slot]).toEqual([]);
    });

    test("Should erase every time with the cache off - no scope reuses anything", async () => {
      const { scheduler, caches, cleared } = cachedPool(1);
      for (let round = 0; round < 2; round++) {
        const lease = await scheduler.acquire(never, { scope: null, tokens: history });
        expect(caches[lease.slot]).toEqual([]);
        caches[lease.slot] = history;
        lease.release();
      }
      expect(cleared).toEqual([0]);
    });

    test("Should leave the cache alone for a holder without an identity - embeddings do not touch the sequence", async () => {
      const { scheduler, caches, cleared } = cachedPool(1);
      const a = await scheduler.acquire(never, { scope: "account:a", tokens: history });
      caches[a.slot] = history;
      a.release();
      (await scheduler.acquire(never)).release();
      const again = await scheduler.acquire(never, { scope: "account:a", tokens: history });
      expect(cleared).toEqual([]);
      expect(caches[again.slot]).toEqual(history);
    });

    test("Should erase a forgotten scope's free slots at once - revocation drops the cache", async () => {
      const { scheduler, caches, cleared } = cachedPool(2);
      const a = await scheduler.acquire(never, { scope: "account:a", tokens: history });
      const b = await scheduler.acquire(never, { scope: "account:b", tokens: [7, 7] });
      caches[a.slot] = history;
      caches[b.slot] = [7, 7];
      a.release();
      b.release();
      await scheduler.forget((scope) => scope === "account:a");
      expect(cleared).toEqual([a.slot]);
      expect(caches[b.slot]).toEqual([7, 7]);
      expect(scheduler.scopes()[a.slot]).toBeNull();
      expect(scheduler.busy).toBe(0);
    });

    test("Should erase a forgotten scope's held slot when it is released - a running request is not cut off", async () => {
      const { scheduler, caches, cleared } = cachedPool(1);
      const a = await scheduler.acquire(never, { scope: "account:a", tokens: history });
      caches[a.slot] = history;
      await scheduler.forget((scope) => scope === "account:a");
      expect(cleared).toEqual([]);
      a.release();
      const next = await scheduler.acquire(never, { scope: "account:a", tokens: history });
      expect(cleared).toEqual([a.slot]);
      expect(caches[next.slot]).toEqual([]);
    });

    test("Should give the slot back and fail the request when erasing fails - a slot is never handed out unerased", async () => {
      const caches: number[][] = [[1, 2]];
      const scheduler = createScheduler({
        name: "m",
        parallel: 1,
        queueSize: 1,
        cachedTokens: (slot) => caches[slot]!,
        clearSlot: () => Promise.reject(new Error("erase failed")),
      });
      await expect(scheduler.acquire(never, { scope: "account:b", tokens: [1, 2] })).rejects.toThrow("erase failed");
      expect(scheduler.busy).toBe(0);
    });
  });
});
