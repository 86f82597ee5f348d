import { describe, expect, test } from "bun:test";
import { runPhases } from "../../../src/inference/run-phases";

describe("run phases", () => {
  test("Should time a run without a change of mode from its first token to its last", () => {
    expect(runPhases(true, [100, 110, 120, 130])).toEqual([{ drafting: true, decodedTokens: 3, decodeMs: 30 }]);
  });

  test("Should split at the change - the second stretch timed from when its mode took over", () => {
    // Three plain tokens, then a draft that took 15 ms to catch up, then three drafted tokens.
    const times = [100, 110, 120, 140, 145, 150];
    expect(runPhases(false, times, [{ afterTokens: 3, at: 135 }])).toEqual([
      { drafting: false, decodedTokens: 2, decodeMs: 20 },
      { drafting: true, decodedTokens: 3, decodeMs: 15 },
    ]);
  });

  test("Should split at every change - each stretch in the other mode from the last", () => {
    // Drafted, then plain from 121, then drafted again from 152 once the draft caught up.
    const times = [100, 105, 110, 120, 130, 140, 150, 155, 160];
    expect(runPhases(true, times, [{ afterTokens: 3, at: 111 }, { afterTokens: 6, at: 152 }])).toEqual([
      { drafting: true, decodedTokens: 2, decodeMs: 10 },
      { drafting: false, decodedTokens: 3, decodeMs: 29 },
      { drafting: true, decodedTokens: 3, decodeMs: 8 },
    ]);
  });

  test("Should keep one stretch when the run ended at its change", () => {
    expect(runPhases(true, [100, 110], [{ afterTokens: 2, at: 111 }])).toEqual([{ drafting: true, decodedTokens: 1, decodeMs: 10 }]);
  });

  test("Should have no stretch for a run that generated nothing", () => {
    expect(runPhases(false, [])).toEqual([]);
  });
});
