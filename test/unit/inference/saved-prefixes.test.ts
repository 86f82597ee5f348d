import { describe, expect, test } from "bun:test";
import { createSavedPrefixes } from "../../../src/inference/saved-prefixes";

/** States are names; discarded ones are recorded, as the engine zeroes them. */
function store(budgetBytes: number) {
  const discarded: string[] = [];
  const saved = createSavedPrefixes<string>({ budgetBytes, discard: (state) => discarded.push(state) });
  return { saved, discarded };
}
const prefix = (scope: string, tokens: number[], state: string, bytes = 10) => ({ scope, tokens, state, bytes });

describe("saved prefixes (the RAM prompt cache's store)", () => {
  test("Should give back the scope's entry sharing the longest prefix - and remove it", () => {
    const { saved } = store(100);
    saved.keep(prefix("account:a", [1, 2, 3, 4], "short"));
    saved.keep(prefix("account:a", [1, 2, 9, 9, 9], "other"));
    const found = saved.take("account:a", [1, 2, 3, 4, 5], 1);
    expect(found?.saved.state).toBe("short");
    expect(found?.prefix).toBe(4);
    expect(saved.entries).toBe(1);
    expect(saved.take("account:a", [1, 2, 3, 4, 5], 3)).toBeUndefined();
  });

  test("Should never give one scope's entry to another - however long the shared prefix", () => {
    const { saved } = store(100);
    saved.keep(prefix("account:a", [1, 2, 3, 4], "a"));
    expect(saved.take("account:b", [1, 2, 3, 4], 1)).toBeUndefined();
    expect(saved.take("key:a:k", [1, 2, 3, 4], 1)).toBeUndefined();
    expect(saved.take("account:a", [1, 2, 3, 4], 1)?.saved.state).toBe("a");
  });

  test("Should refuse a prefix shorter than asked - the caller's minimum", () => {
    const { saved } = store(100);
    saved.keep(prefix("account:a", [1, 2, 3, 4], "a"));
    expect(saved.take("account:a", [1, 2, 7], 3)).toBeUndefined();
    expect(saved.entries).toBe(1);
  });

  test("Should push out the least recently kept entries beyond the budget - and discard each once", () => {
    const { saved, discarded } = store(25);
    saved.keep(prefix("account:a", [1], "first"));
    saved.keep(prefix("account:b", [2], "second"));
    saved.keep(prefix("account:c", [3], "third"));
    expect(discarded).toEqual(["first"]);
    expect(saved.bytes).toBe(20);
    expect(saved.scopes().sort()).toEqual(["account:b", "account:c"]);
  });

  test("Should refuse a state larger than the whole budget - and discard it", () => {
    const { saved, discarded } = store(25);
    saved.keep(prefix("account:a", [1], "small"));
    saved.keep(prefix("account:a", [2], "huge", 26));
    expect(discarded).toEqual(["huge"]);
    expect(saved.entries).toBe(1);
  });

  test("Should keep one entry per line of a conversation - a longer prefix replaces the ones it extends, a shorter one is dropped", () => {
    const { saved, discarded } = store(100);
    saved.keep(prefix("account:a", [1, 2], "turn1"));
    saved.keep(prefix("account:a", [1, 2, 3, 4], "turn2"));
    saved.keep(prefix("account:a", [1, 2, 3], "stale"));
    // Another scope's identical tokens are its own entry.
    saved.keep(prefix("account:b", [1, 2], "b"));
    expect(discarded).toEqual(["turn1", "stale"]);
    expect(saved.entries).toBe(2);
  });

  test("Should say whether a scope holds tokens already - an entry extending them does, another scope's does not", () => {
    const { saved } = store(100);
    saved.keep(prefix("account:a", [1, 2, 3], "a"));
    expect(saved.covers("account:a", [1, 2])).toBe(true);
    expect(saved.covers("account:a", [1, 2, 3])).toBe(true);
    expect(saved.covers("account:a", [1, 2, 3, 4])).toBe(false);
    expect(saved.covers("account:a", [1, 5])).toBe(false);
    expect(saved.covers("account:b", [1, 2])).toBe(false);
  });

  test("Should discard every entry of a forgotten scope - and only those", () => {
    const { saved, discarded } = store(100);
    saved.keep(prefix("account:a", [1], "a1"));
    saved.keep(prefix("account:a", [2], "a2"));
    saved.keep(prefix("account:b", [1], "b"));
    saved.forget((scope) => scope === "account:a");
    expect(discarded.sort()).toEqual(["a1", "a2"]);
    expect(saved.scopes()).toEqual(["account:b"]);
    saved.clear();
    expect(saved.entries).toBe(0);
    expect(saved.bytes).toBe(0);
  });
});
