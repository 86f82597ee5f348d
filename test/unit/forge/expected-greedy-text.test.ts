import { describe, expect, test } from "bun:test";
import { expectedChatReply, expectedGreedyText, greedyTokens } from "../../../src/forge/expected-greedy-text";
import { type ForgeOptions, presets } from "../../../src/forge/forge-options";
import { charTokenId } from "../../../src/forge/forge-vocab";
import { successorTable } from "../../../src/forge/successor-rule";

const tiny = presets.tiny;
const agreeing = { ...tiny, draftDisagreement: 0 };

describe("expectedGreedyText", () => {
  const cases: [string, number, string][] = [
    ["a", 30, "bcdefghijklmnopqrstuvwxyz abcd"],
    ["Once upon a time", 5, "fghij"],
    ["x9", 12, "012345678901"],
    ["ABC", 40, "DEFGHIJKLMNOPQRSTUVWXYZ."],
    ["Hello.", 10, ""],
    ["", 3, "abc"],
    ["what?", 3, "ab"],
    ["café", 3, "ab"],
    ["line\n", 4, "ABCD"],
  ];
  test.each(cases)("Should continue %p for %d tokens as %p", (prompt, tokens, text) => {
    expect(expectedGreedyText(prompt, tokens, tiny)).toBe(text);
  });

  test("Should drop the leading space of the text - as llama.cpp's detokenizer does - but keep its token", () => {
    expect(expectedGreedyText("z", 3, tiny)).toBe("ab");
    expect(greedyTokens(charTokenId("z")!, 3, tiny, "target")).toEqual([" ", "a", "b"].map((c) => charTokenId(c)!));
  });
});

describe("expectedChatReply", () => {
  test("Should end the reply with a period - then the turn", () => {
    expect(expectedChatReply(tiny)).toBe("ABCDEFGHIJKLMNOPQRSTUVWXYZ.");
  });

  test("Should cut the reply at maxTokens", () => {
    expect(expectedChatReply(tiny, "target", 3)).toBe("ABC");
  });

  test("Should refuse an endless reply without maxTokens - rather than loop forever", () => {
    const drifting = { ...tiny, draftDisagreement: 1 };
    expect(() => expectedChatReply(drifting, "draft")).toThrow("never ends; pass a finite maxTokens");
  });
});

describe("draft disagreement", () => {
  const lowercase = [..."abcdefghijklmnopqrstuvwxyz "].map((c) => charTokenId(c)!);
  const differing = (options: ForgeOptions) => {
    const target = successorTable(options, "target");
    const draft = successorTable(options, "draft");
    return lowercase.filter((id) => target[id] !== draft[id]).length;
  };

  test("Should give the draft the target's text - with disagreement 0", () => {
    expect(expectedGreedyText("a", 100, agreeing, "draft")).toBe(expectedGreedyText("a", 100, agreeing, "target"));
    expect(expectedChatReply(agreeing, "draft")).toBe(expectedChatReply(agreeing, "target"));
  });

  test.each([
    [0.1, 3],
    [0.2, 5],
    [0.5, 14],
    [1, 27],
  ])("Should disagree on exactly round(%d x 27) = %d steps of the lowercase cycle", (rate, steps) => {
    expect(differing({ ...tiny, draftDisagreement: rate })).toBe(steps);
  });

  test("Should make the draft skip one letter where it disagrees", () => {
    const target = expectedGreedyText("a", 27, tiny, "target");
    const draft = expectedGreedyText("a", 22, tiny, "draft");
    expect(draft).not.toBe(target.slice(0, 22));
    // Every draft step moves one or two places along the cycle "bcd...z a".
    const cycle = "abcdefghijklmnopqrstuvwxyz ";
    let previous = cycle.indexOf("a");
    for (const c of draft) {
      const step = (cycle.indexOf(c) - previous + cycle.length) % cycle.length;
      expect([1, 2]).toContain(step);
      previous = cycle.indexOf(c);
    }
  });

  test("Should pick other disagreements for another seed", () => {
    expect(expectedGreedyText("a", 27, { ...tiny, seed: 2 }, "draft")).not.toBe(expectedGreedyText("a", 27, tiny, "draft"));
  });
});
