import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { LlamaCompletion, type Llama } from "node-llama-cpp";
import { expectedGreedyText } from "../../../src/forge";
import { loadModelRuntime } from "../../../src/inference/model-runtime";
import { forgeTinyPairs, modelConfig, sharedLlama } from "./tiny-pair";

let forged: Awaited<ReturnType<typeof forgeTinyPairs>>;
let llama: Llama;

beforeAll(async () => {
  forged = await forgeTinyPairs([0.2]);
  llama = await sharedLlama();
});

afterAll(() => forged?.[Symbol.dispose]());

describe("flash_attention", () => {
  test.each([
    ["on", true],
    ["off", false],
    ["auto", "auto"],
  ] as const)("Should hand llama.cpp flash_attention = %p and decode the forge's exact greedy text", async (setting, contextOption) => {
    const pair = forged.pairs.get(0.2)!;
    const config = modelConfig({ id: "tiny", path: pair.target, parallel: 1, context_size: 256, speculative: "none", flash_attention: setting });
    await using runtime = await loadModelRuntime({ llama, config, mode: "none", threads: { target: 1, draft: 1 }, keepDrafting: () => false });
    expect(runtime.context.flashAttention).toBe(contextOption);
    const completion = new LlamaCompletion({ contextSequence: runtime.sequences[0]!, autoDisposeSequence: false });
    try {
      expect(await completion.generateCompletion("abc", { maxTokens: 100, repeatPenalty: false })).toBe(expectedGreedyText("abc", 100, pair.options));
    } finally {
      completion.dispose();
    }
  });
});
