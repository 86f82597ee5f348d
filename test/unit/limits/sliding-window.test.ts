import { describe, expect, test } from "bun:test";
import { formatDuration } from "../../../src/limits/admission";
import { budgetPeriodBounds } from "../../../src/limits/budget-period";
import { createSlidingWindow } from "../../../src/limits/sliding-window";

describe("sliding window", () => {
  test("Should sum what was added in the last minute - and forget older amounts", () => {
    const window = createSlidingWindow(60_000);
    window.add(0, 10);
    window.add(30_000, 5);
    expect(window.used(59_999)).toBe(15);
    expect(window.used(60_000)).toBe(5);
    expect(window.used(90_000)).toBe(0);
    expect(window.isEmpty(90_000)).toBe(true);
  });

  test("Should tell how long until the total falls below a limit", () => {
    const window = createSlidingWindow(60_000);
    window.add(0, 10);
    window.add(30_000, 5);
    expect(window.msUntilBelow(40_000, 20)).toBe(0);
    expect(window.msUntilBelow(40_000, 15)).toBe(20_000);
    expect(window.msUntilBelow(40_000, 6)).toBe(20_000);
    expect(window.msUntilBelow(40_000, 5)).toBe(50_000);
    expect(window.msUntilBelow(40_000, 1)).toBe(50_000);
  });
});

describe("budget periods and reset durations", () => {
  const periods: [string, "day" | "month", string, string, string][] = [
    ["mid-day", "day", "2030-03-15T13:45:00Z", "2030-03-15T00:00:00.000Z", "2030-03-16T00:00:00.000Z"],
    ["mid-month", "month", "2030-03-15T13:45:00Z", "2030-03-01T00:00:00.000Z", "2030-04-01T00:00:00.000Z"],
    ["December", "month", "2030-12-31T23:59:59Z", "2030-12-01T00:00:00.000Z", "2031-01-01T00:00:00.000Z"],
    ["a leap February", "month", "2032-02-29T12:00:00Z", "2032-02-01T00:00:00.000Z", "2032-03-01T00:00:00.000Z"],
  ];
  for (const [name, period, at, start, end] of periods)
    test(`Should bound ${name} in UTC`, () => {
      const bounds = budgetPeriodBounds(period, Date.parse(at));
      expect([new Date(bounds.start).toISOString(), new Date(bounds.end).toISOString()]).toEqual([start, end]);
    });

  const durations: [number, string][] = [
    [0, "0ms"],
    [250, "250ms"],
    [1000, "1s"],
    [12_300, "13s"],
    [60_000, "1m0s"],
    [90_500, "1m31s"],
  ];
  for (const [ms, text] of durations) test(`Should write ${ms} ms as ${text}`, () => expect(formatDuration(ms)).toBe(text));
});
