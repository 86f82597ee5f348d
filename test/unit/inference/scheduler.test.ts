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
});
