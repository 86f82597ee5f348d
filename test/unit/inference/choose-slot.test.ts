import { describe, expect, test } from "bun:test";
import { chooseSlot, commonPrefixLength, mustClear, type SlotCache } from "../../../src/inference/choose-slot";

const slot = (slot: number, scope: string | null, tokens: number[], lastUsed: number): SlotCache => ({ slot, scope, tokens, lastUsed });
const prompt = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

describe("chooseSlot", () => {
  test.each([
    {
      name: "Should take the slot sharing the longest prefix - it reuses the most",
      free: [slot(0, "a", [1, 2, 3], 1), slot(1, "a", [1, 2, 3, 4, 5, 6], 2), slot(2, "a", [1, 2], 0)],
      scope: "a",
      expected: 1,
    },
    {
      name: "Should take the least recently used slot - no cached prefix matches",
      free: [slot(0, "a", [9, 9], 5), slot(1, "a", [8], 3), slot(2, "a", [7], 4)],
      scope: "a",
      expected: 1,
    },
    {
      name: "Should ignore another scope's longer prefix - another account's cache never counts",
      free: [slot(0, "b", prompt, 1), slot(1, "a", [1, 2, 3], 9)],
      scope: "a",
      expected: 1,
    },
    {
      name: "Should fall back to least recently used - only another scope holds the prompt",
      free: [slot(0, "b", prompt, 1), slot(1, "c", [], 2)],
      scope: "a",
      expected: 0,
    },
    {
      name: "Should fall back to least recently used - the prompt cache is off (no scope)",
      free: [slot(0, null, prompt, 7), slot(1, null, [5], 2)],
      scope: null,
      expected: 1,
    },
    {
      name: "Should not chase a template-sized match - a prefix under a tenth of the prompt is not worth another conversation's cache",
      free: [slot(0, "a", [1, 99], 9), slot(1, "a", [42, 43], 1)],
      scope: "a",
      tokens: Array.from({ length: 30 }, (_, index) => index + 1),
      expected: 1,
    },
  ])("$name", ({ free, scope, tokens, expected }) => {
    expect(chooseSlot(free, { scope, tokens: tokens ?? prompt })?.slot).toBe(expected);
  });

  test("Should take the least recently used slot - a holder without an identity (embeddings)", () => {
    expect(chooseSlot([slot(0, "a", prompt, 4), slot(1, "b", [], 3)], undefined)?.slot).toBe(1);
  });

  describe("with the busy slots (a KV cache per sequence batches only consecutive slots)", () => {
    // Slots 0-5; the free ones below, the rest busy.
    const busy = (...slots: number[]) => new Set(slots);

    test("Should fill the hole between two busy slots - one run instead of two, over a less recently used slot", () => {
      const free = [slot(1, "a", [9], 5), slot(4, "a", [9], 1), slot(5, "a", [9], 0)];
      expect(chooseSlot(free, { scope: "a", tokens: prompt }, busy(0, 2, 3))?.slot).toBe(1);
    });

    test("Should extend a run over starting a new one - the least recently used among the neighbours", () => {
      const free = [slot(0, "a", [9], 0), slot(3, "a", [9], 4), slot(1, "a", [9], 2)];
      expect(chooseSlot(free, { scope: "a", tokens: prompt }, busy(2))?.slot).toBe(1);
    });

    test("Should still take its own cached prefix - reuse beats adjacency", () => {
      const free = [slot(1, "a", [9], 5), slot(5, "a", prompt, 9)];
      expect(chooseSlot(free, { scope: "a", tokens: prompt }, busy(0, 2))?.slot).toBe(5);
    });

    test("Should take the slot next to busy ones among those sharing the longest prefix equally - a shared system prompt does not split the batch", () => {
      const withPrompt = (rest: number[]) => [...prompt.slice(0, 6), ...rest];
      const free = [slot(0, "a", withPrompt([70, 71]), 1), slot(3, "a", withPrompt([80]), 7), slot(5, "a", withPrompt([90, 91, 92]), 2)];
      expect(chooseSlot(free, { scope: "a", tokens: prompt }, busy(1, 2, 4))?.slot).toBe(3);
    });

    test("Should take the least recently used among slots sharing the longest prefix equally - nothing is busy", () => {
      const free = [slot(0, "a", [1, 2, 3, 70], 6), slot(1, "a", [1, 2, 3, 80], 2), slot(2, "a", [1, 2, 3, 90], 4)];
      expect(chooseSlot(free, { scope: "a", tokens: prompt }, busy())?.slot).toBe(1);
    });

    test("Should take the least recently used slot - nothing is busy", () => {
      expect(chooseSlot([slot(0, "a", [9], 3), slot(1, "a", [9], 1)], { scope: "a", tokens: prompt }, busy())?.slot).toBe(1);
    });
  });

  test("Should return nothing - no slot is free", () => {
    expect(chooseSlot([], { scope: "a", tokens: prompt })).toBeUndefined();
  });
});

describe("mustClear", () => {
  test.each([
    { name: "Should clear - the slot holds another scope's tokens", slot: { scope: "b", tokens: [1] }, identity: { scope: "a", tokens: [1] }, expected: true },
    { name: "Should clear - the request reuses nothing (cache off)", slot: { scope: null, tokens: [1] }, identity: { scope: null, tokens: [1] }, expected: true },
    { name: "Should clear - the slot's scope was forgotten", slot: { scope: null, tokens: [1] }, identity: { scope: "a", tokens: [1] }, expected: true },
    { name: "Should keep - the slot holds the same scope's tokens", slot: { scope: "a", tokens: [1] }, identity: { scope: "a", tokens: [2] }, expected: false },
    { name: "Should keep - the slot holds nothing", slot: { scope: "b", tokens: [] }, identity: { scope: "a", tokens: [1] }, expected: false },
    { name: "Should keep - the holder does not use the cache", slot: { scope: "b", tokens: [1] }, identity: undefined, expected: false },
  ])("$name", ({ slot, identity, expected }) => {
    expect(mustClear(slot, identity)).toBe(expected);
  });
});

test("commonPrefixLength counts equal leading tokens", () => {
  expect(commonPrefixLength([1, 2, 3], [1, 2, 4])).toBe(2);
  expect(commonPrefixLength([1, 2], [1, 2, 3])).toBe(2);
  expect(commonPrefixLength([], [1])).toBe(0);
});
