import { describe, expect, test } from "bun:test";
import { draftVocabMismatch } from "../../../src/models/draft-vocab-mismatch";
import type { ModelHeader } from "../../../src/models/read-model-header";

function header(tokens: string[], tokenizer = "llama"): ModelHeader {
  return { architecture: "llama", contextLength: 512, vocabSize: tokens.length, vocabHash: "0", tokenizer, tokens };
}

const pieces = (count: number, prefix = "t") => Array.from({ length: count }, (_, id) => `${prefix}${id}`);

describe("draftVocabMismatch", () => {
  const cases: [string, ModelHeader, ModelHeader, string | null][] = [
    ["the same vocabulary", header(pieces(300)), header(pieces(300)), null],
    ["a draft padded by up to 128 tokens (converters pad differently)", header(pieces(300)), header(pieces(428)), null],
    ["a target padded by up to 128 tokens", header(pieces(428)), header(pieces(300)), null],
    ["sizes more than 128 apart", header(pieces(300)), header(pieces(429)), "the draft has 429 tokens, the target 300 (at most 128 apart)"],
    ["another tokenizer", header(pieces(300)), header(pieces(300), "gpt2"), "the draft's tokenizer is gpt2, the target's llama"],
    ["a piece that differs", header(pieces(300)), header(pieces(300).with(42, "other")), "token 42 is a different piece in the draft than in the target"],
  ];
  for (const [name, target, draft, expected] of cases) {
    test(`Should ${expected == null ? "accept" : "refuse"} ${name}`, () => {
      expect(draftVocabMismatch(target, draft)).toBe(expected);
    });
  }

  test("Should not quote a token's piece - a vocabulary may hold any text", () => {
    expect(draftVocabMismatch(header(["secret-piece"]), header(["other-piece"]))).not.toContain("piece\"");
    expect(draftVocabMismatch(header(["secret-piece"]), header(["other-piece"]))).not.toContain("secret");
  });
});
