import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { LlamaCompletion, type Llama, type LlamaContext } from "node-llama-cpp";
import { expectedGreedyText } from "../../../src/forge";
import { loadModelRuntime, type ModelRuntime } from "../../../src/inference/model-runtime";
import { forgeTinyPairs, modelConfig, sharedLlama } from "./tiny-pair";

// How a loaded model's context decodes: the flash attention setting reaches llama.cpp, and the patch
// decodes a lone sequence's tokens past node-llama-cpp's batch queue (decodeOneAndSample: decode and
// sample in one async work) while a sequence with company goes back to the shared batch.

let forged: Awaited<ReturnType<typeof forgeTinyPairs>>;
let llama: Llama;

beforeAll(async () => {
  forged = await forgeTinyPairs([0.2]);
  llama = await sharedLlama();
});

afterAll(() => forged?.[Symbol.dispose]());

/** Counts the addon calls that decode (the batch path's decodeBatch, the lone path's decodeOneAndSample) and sampleToken's separate samplings. */
function countDecodes(context: LlamaContext) {
  const counts = { batch: 0, alone: 0, sampledApart: 0 };
  const internal = context as unknown as { _ctx: Record<string, unknown> };
  const addon = internal._ctx;
  internal._ctx = new Proxy(addon, {
    get(target, property) {
      const value = target[property as string];
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (property === "decodeBatch") counts.batch++;
        if (property === "decodeOneAndSample") counts.alone++;
        if (property === "sampleToken") counts.sampledApart++;
        return value.apply(target, args);
      };
    },
  });
  return counts;
}

/** 100 greedy tokens on the first slot, alone: the forge's exact text, the prompt in one batch and every later token in an async work of its own. */
async function expectLoneStream(runtime: ModelRuntime, pair: { target: string; options: Parameters<typeof expectedGreedyText>[2] }) {
  const counts = countDecodes(runtime.context);
  const completion = new LlamaCompletion({ contextSequence: runtime.sequences[0]!, autoDisposeSequence: false });
  try {
    expect(await completion.generateCompletion("abc", { maxTokens: 100, repeatPenalty: false })).toBe(expectedGreedyText("abc", 100, pair.options));
  } finally {
    completion.dispose();
  }
  expect(counts.batch).toBe(1);
  expect(counts.alone).toBe(99);
}

describe("a lone sequence's decode", () => {
  test("Should decode a lone stream's tokens one async work each - the forge's exact greedy text, the prompt alone through the batch", async () => {
    const pair = forged.pairs.get(0.2)!;
    const config = modelConfig({ id: "tiny", path: pair.target, parallel: 2, context_size: 256, speculative: "none" });
    await using runtime = await loadModelRuntime({ llama, config, mode: "none", threads: { target: 2, draft: 1 }, keepDrafting: () => false });
    await expectLoneStream(runtime, pair);
  });

  test("Should share the batch again once a second sequence decodes - each keeps its exact text, sampled by the batch's own decode", async () => {
    const pair = forged.pairs.get(0.2)!;
    const config = modelConfig({ id: "tiny", path: pair.target, parallel: 2, context_size: 256, speculative: "none" });
    await using runtime = await loadModelRuntime({ llama, config, mode: "none", threads: { target: 2, draft: 1 }, keepDrafting: () => false });
    const counts = countDecodes(runtime.context);
    const generate = (slot: number, prompt: string, maxTokens: number) => {
      const completion = new LlamaCompletion({ contextSequence: runtime.sequences[slot]!, autoDisposeSequence: false });
      return completion.generateCompletion(prompt, { maxTokens, repeatPenalty: false }).finally(() => completion.dispose());
    };
    const first = generate(0, "abc", 150);
    await Bun.sleep(5);
    const second = generate(1, "xyz", 60);
    expect(await Promise.all([first, second])).toEqual([expectedGreedyText("abc", 150, pair.options), expectedGreedyText("xyz", 60, pair.options)]);
    // Shared steps decode both sequences in one batch: fewer decodes than tokens in all.
    expect(counts.batch).toBeGreaterThan(1);
    expect(counts.batch + counts.alone).toBeLessThan(150 + 60);
    // decodeBatch samples each sequence's token after decoding: no round trip per sequence to sample it
    expect(counts.sampledApart).toBe(0);
  });
});

describe("a sequence with a draft that is not drafting", () => {
  test("Should decode its lone stream one async work per token, as without a draft - the forge's exact greedy text", async () => {
    const pair = forged.pairs.get(0.2)!;
    const draft = { path: pair.draft, min_tokens: 1, max_tokens: 8, min_confidence: 0, threads: 1, adaptive: true };
    const config = modelConfig({ id: "tiny", path: pair.target, parallel: 1, context_size: 256, speculative: "draft", draft });
    // Adaptive drafting paused: the predictor proposes nothing.
    await using runtime = await loadModelRuntime({ llama, config, mode: "draft", threads: { target: 2, draft: 1 }, keepDrafting: () => false });
    await expectLoneStream(runtime, pair);
  });
});

describe("the sampler config of a generation", () => {
  /** Counts the configs node-llama-cpp's samplers hand the addon (its LlamaSampler is not exported: imported by path). */
  async function countSamplerConfigs() {
    const path = Bun.resolveSync("node-llama-cpp", import.meta.dir).replace(/index\.js$/, "evaluator/LlamaContext/LlamaSampler.js");
    const { LlamaSampler } = (await import(path)) as { LlamaSampler: { prototype: { applyConfig(config: unknown): unknown } } };
    const original = LlamaSampler.prototype.applyConfig;
    const counts = { applied: 0, [Symbol.dispose]: () => void (LlamaSampler.prototype.applyConfig = original) };
    LlamaSampler.prototype.applyConfig = function (config) {
      counts.applied++;
      return original.call(this, config);
    };
    return counts;
  }

  test("Should reach the addon once when nothing in it changes per token, and every token when a repeat penalty's tokens do - the penalty still changes the text", async () => {
    const pair = forged.pairs.get(0.2)!;
    const config = modelConfig({ id: "tiny", path: pair.target, parallel: 1, context_size: 256, speculative: "none" });
    await using runtime = await loadModelRuntime({ llama, config, mode: "none", threads: { target: 2, draft: 1 }, keepDrafting: () => false });
    let generated = 0;
    const generate = (repeatPenalty: false | { penalty: number; presencePenalty: number }) => {
      generated = 0;
      const completion = new LlamaCompletion({ contextSequence: runtime.sequences[0]!, autoDisposeSequence: false });
      const onToken = (tokens: unknown[]) => void (generated += tokens.length);
      return completion.generateCompletion("abc", { maxTokens: 100, repeatPenalty, onToken }).finally(() => completion.dispose());
    };
    {
      using counts = await countSamplerConfigs();
      expect(await generate(false)).toBe(expectedGreedyText("abc", 100, pair.options));
      expect(counts.applied).toBe(1);
    }
    {
      using counts = await countSamplerConfigs();
      expect(await generate({ penalty: 1000, presencePenalty: 50 })).not.toBe(expectedGreedyText("abc", 100, pair.options));
      // the penalised tokens change with each token, so each one's config reaches the addon
      expect(generated).toBeGreaterThan(10);
      expect(counts.applied).toBe(generated);
    }
  });
});

describe("flash_attention", () => {
  test.each([
    ["on", true],
    ["off", false],
    ["auto", "auto"],
  ] as const)("Should hand every context of the model flash_attention = %p and decode the forge's exact greedy text", async (setting, contextOption) => {
    const pair = forged.pairs.get(0.2)!;
    const config = modelConfig({ id: "tiny", path: pair.target, parallel: 1, context_size: 256, speculative: "none", flash_attention: setting });
    await using runtime = await loadModelRuntime({ llama, config, mode: "none", threads: { target: 1, draft: 1 }, keepDrafting: () => false });
    // The model's default, so its embedding context takes the setting too.
    expect(runtime.model.defaultContextFlashAttention).toBe(contextOption);
    expect(runtime.context.flashAttention).toBe(contextOption);
    const completion = new LlamaCompletion({ contextSequence: runtime.sequences[0]!, autoDisposeSequence: false });
    try {
      expect(await completion.generateCompletion("abc", { maxTokens: 100, repeatPenalty: false })).toBe(expectedGreedyText("abc", 100, pair.options));
    } finally {
      completion.dispose();
    }
  });
});
