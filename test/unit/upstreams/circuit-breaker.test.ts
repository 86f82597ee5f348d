import { describe, expect, test } from "bun:test";
import { createCircuitBreaker, type CircuitState } from "../../../src/upstreams/circuit-breaker";

function breaker() {
  let now = 1_000_000;
  const changes: CircuitState[] = [];
  const instance = createCircuitBreaker({ failureThreshold: 3, cooldownMs: 10_000, now: () => now, onStateChange: (state) => changes.push(state) });
  return { breaker: instance, changes, advance: (ms: number) => (now += ms) };
}

describe("createCircuitBreaker", () => {
  test("Should stay closed below the threshold - a success resets the count", () => {
    const { breaker: b } = breaker();
    b.failure();
    b.failure();
    b.success();
    b.failure();
    b.failure();
    expect(b.state).toBe("closed");
    expect(b.tryAcquire()).toBe(true);
    expect(b.retryAfterSeconds()).toBe(0);
  });

  test("Should open after 3 consecutive failures - and refuse until the cooldown has passed", () => {
    const { breaker: b, changes, advance } = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    expect(b.state).toBe("open");
    expect(b.canAttempt()).toBe(false);
    expect(b.tryAcquire()).toBe(false);
    expect(b.retryAfterSeconds()).toBe(10);
    advance(9_500);
    expect(b.tryAcquire()).toBe(false);
    expect(b.retryAfterSeconds()).toBe(1);
    expect(changes).toEqual(["open"]);
  });

  test("Should let exactly one trial through when half-open - its success closes the circuit", () => {
    const { breaker: b, changes, advance } = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    advance(10_000);
    expect(b.state).toBe("half-open");
    expect(b.tryAcquire()).toBe(true);
    expect(b.tryAcquire()).toBe(false);
    expect(b.canAttempt()).toBe(false);
    b.success();
    expect(b.state).toBe("closed");
    expect(changes).toEqual(["open", "half-open", "closed"]);
  });

  test("Should open again for a full cooldown when the half-open trial fails", () => {
    const { breaker: b, advance } = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    advance(10_000);
    expect(b.tryAcquire()).toBe(true);
    b.failure();
    expect(b.state).toBe("open");
    expect(b.retryAfterSeconds()).toBe(10);
  });

  test("Should give the half-open trial back without a verdict when released - the next caller may try", () => {
    const { breaker: b, advance } = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    advance(10_000);
    expect(b.tryAcquire()).toBe(true);
    b.release();
    expect(b.state).toBe("half-open");
    expect(b.tryAcquire()).toBe(true);
  });
});
