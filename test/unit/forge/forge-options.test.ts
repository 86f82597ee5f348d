import { describe, expect, test } from "bun:test";
import { ForgeOptionsError, presets, resolveForgeOptions, validateForgeOptions } from "../../../src/forge/forge-options";

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ForgeOptionsError) return error.problems;
    throw error;
  }
  throw new Error("expected a ForgeOptionsError");
}

describe("resolveForgeOptions", () => {
  test.each(Object.keys(presets))("Should accept the %s preset as it is", (name) => {
    expect(resolveForgeOptions(name)).toEqual(presets[name as keyof typeof presets]);
  });

  test("Should apply overrides over the preset", () => {
    const options = resolveForgeOptions("tiny", { preset: "tiny-f16", tensorType: "f16", seed: 7 });
    expect(options).toEqual({ ...presets.tiny, preset: "tiny-f16", tensorType: "f16", seed: 7 });
  });

  test("Should reject an unknown preset - and name the known ones", () => {
    expect(problemsOf(() => resolveForgeOptions("huge"))).toEqual(['unknown preset "huge"; expected one of tiny, demo, bench']);
  });

  const invalid: [string, Record<string, unknown>, string][] = [
    ["heads not dividing E", { heads: 5, kvHeads: 1 }, "heads (5) must divide embedding size (128)"],
    ["kv heads not dividing heads", { kvHeads: 3 }, "kv heads (3) must divide heads (4)"],
    ["an odd head size", { embeddingSize: 96, heads: 32, kvHeads: 4 }, "head size (embedding size 96 / heads 32 = 3) must be even for RoPE"],
    ["a vocab smaller than the base tokens", { vocabSize: 300 }, "vocab size (300) must be at least the base token count (356)"],
    ["q8_0 with E not a multiple of 32", { tensorType: "q8_0", embeddingSize: 80, heads: 4, kvHeads: 2 }, "q8_0 needs embedding size (80) to be a multiple of 32"],
    ["q8_0 with an ffn size not a multiple of 32", { tensorType: "q8_0", ffnSize: 100 }, "q8_0 needs ffn size (100) to be a multiple of 32"],
    ["q8_0 with a draft ffn size not a multiple of 32", { tensorType: "q8_0", draftFfnSize: 48 }, "q8_0 needs draft ffn size (48) to be a multiple of 32"],
    ["a draft deeper than the target", { draftLayers: 3 }, "draft layers (3) must not exceed layers (2)"],
    ["an embedding too small for the logit margin", { embeddingSize: 32, heads: 4, kvHeads: 2 }, "embedding size (32) must be at least 64 to keep the successor rule's logit margin"],
    ["an unknown tensor type", { tensorType: "q4_0" }, 'tensorType: must be one of f32, f16, q8_0 (got "q4_0")'],
    ["a disagreement above 1", { draftDisagreement: 1.5 }, "draftDisagreement: Too big: expected number to be <=1"],
    ["a fractional layer count", { layers: 2.5 }, "layers: Invalid input: expected int, received number"],
    ["a preset name unfit for a file name", { preset: "../x" }, "preset: must be lowercase letters, digits and dashes (it names the files)"],
    ["an unknown option", { threads: 4 }, 'Unrecognized key: "threads"'],
  ];
  test.each(invalid)("Should reject %s - with the numbers in the message", (_, overrides, problem) => {
    expect(problemsOf(() => resolveForgeOptions("tiny", overrides))).toEqual([problem]);
  });

  test("Should report every problem at once", () => {
    const problems = problemsOf(() => resolveForgeOptions("tiny", { heads: 3, vocabSize: 100 }));
    expect(problems).toEqual([
      "heads (3) must divide embedding size (128)",
      "kv heads (2) must divide heads (3)",
      "vocab size (100) must be at least the base token count (356)",
    ]);
  });

  test("Should put the problems in the error message", () => {
    expect(() => validateForgeOptions({ ...presets.tiny, heads: 5 })).toThrow(
      "invalid forge options: heads (5) must divide embedding size (128)",
    );
  });
});
