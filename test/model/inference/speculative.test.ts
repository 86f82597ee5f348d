import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { LlamaCompletion, type Llama } from "node-llama-cpp";
import { expectedChatReply, expectedGreedyText } from "../../../src/forge";
import { createLlamaEngine } from "../../../src/inference/llama-engine";
import { loadModelRuntime } from "../../../src/inference/model-runtime";
import type { SpeculativeRun } from "../../../src/inference/speculative-controller";
import { collect, forgeTinyPairs, modelConfig, sharedLlama, textRequest } from "./tiny-pair";

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const levels = [0, 0.2, 0.5];
let forged: Awaited<ReturnType<typeof forgeTinyPairs>>;
let llama: Llama;

beforeAll(async () => {
  forged = await forgeTinyPairs(levels);
  llama = await sharedLlama();
});

afterAll(async () => {
  await llama?.dispose();
  forged?.[Symbol.dispose]();
});

describe("speculative decoding on the tiny forged pair", () => {
  for (const level of levels)
    test(`greedy output with the draft equals output without it and the forge's expectation (disagreement ${level})`, async () => {
      const pair = forged.pairs.get(level)!;
      const draft = { path: pair.draft, min_tokens: 1, max_tokens: 8, min_confidence: 0, threads: 1, adaptive: false };
      await using engine = createLlamaEngine({
        config: {
          engine: { gpu: "cpu", max_threads: 2 },
          models: [
            modelConfig({ id: "plain", path: pair.target, default: true, speculative: "none" }),
            modelConfig({ id: "drafted", path: pair.target, speculative: "draft", draft }),
          ],
        },
        logger: silent,
        loadLlama: async () => llama,
      });
      const chat = { kind: "chat" as const, messages: [{ role: "user" as const, content: "hi" }], tools: [], toolChoice: "none" as const };
      const sampling = { ...textRequest("", "").sampling, maxTokens: 60 };
      for (const prompt of ["abc", "Hello", "x7"]) {
        const plain = await collect(await engine.generate(textRequest("plain", prompt, { sampling })));
        const drafted = await collect(await engine.generate(textRequest("drafted", prompt, { sampling })));
        expect(plain.text).toBe(expectedGreedyText(prompt, 60, pair.options));
        expect(drafted.text).toBe(plain.text);
        const { draftTokensAccepted, ...draftedCounts } = drafted.done!.usage;
        expect(draftedCounts).toEqual(plain.done!.usage);
        expect(plain.done!.usage.draftTokensAccepted).toBeUndefined();
        expect(draftTokensAccepted).toBeGreaterThanOrEqual(0);
        expect(draftTokensAccepted).toBeLessThanOrEqual(draftedCounts.completionTokens);
        if (level === 0) expect(draftTokensAccepted).toBeGreaterThan(0);
      }
      const plainChat = await collect(await engine.generate(textRequest("plain", "", { input: chat, sampling })));
      const draftedChat = await collect(await engine.generate(textRequest("drafted", "", { input: chat, sampling })));
      expect(plainChat.text).toBe(expectedChatReply(pair.options));
      expect(draftedChat.text).toBe(plainChat.text);

      const speculative = engine.models().find((model) => model.id === "drafted")!.speculative;
      expect(speculative.mode).toBe("draft");
      expect(speculative.draftTokensProposed).toBeGreaterThan(0);
      if (level === 0) expect(speculative.draftTokensAccepted).toBeGreaterThan(0);
    });

  test("a fully agreeing draft has no refuted token (the draft-validation patch is applied)", async () => {
    const pair = forged.pairs.get(0)!;
    const config = modelConfig({
      id: "tiny",
      path: pair.target,
      parallel: 1,
      speculative: "draft",
      // Several draft tokens per batch: without the patch every one after the first is refuted.
      draft: { path: pair.draft, min_tokens: 4, max_tokens: 8, min_confidence: 0, threads: 1, adaptive: false },
    });
    await using runtime = await loadModelRuntime({ llama, config, mode: "draft", threads: { target: 1, draft: 1 }, keepDrafting: () => true });
    const sequence = runtime.sequences[0]!;
    runtime.predictors[0]!.draftThisRun({ drafting: true });
    const completion = new LlamaCompletion({ contextSequence: sequence, autoDisposeSequence: false });
    try {
      const text = await completion.generateCompletion("abc", { maxTokens: 100, repeatPenalty: false });
      expect(text).toBe(expectedGreedyText("abc", 100, pair.options));
    } finally {
      sequence.tokenPredictor?.stop();
      completion.dispose();
    }
    const stats = sequence.tokenPredictions;
    expect(stats.refuted).toBe(0);
    expect(stats.used).toBeGreaterThan(60);
  });

  /** 100 greedy tokens of "abc" on the d0 pair's one sequence, the run sliced as given; the text must be the forge's. */
  async function slicedRun(run: SpeculativeRun) {
    const pair = forged.pairs.get(0)!;
    const config = modelConfig({
      id: "tiny",
      path: pair.target,
      parallel: 1,
      speculative: "draft",
      draft: { path: pair.draft, min_tokens: 4, max_tokens: 8, min_confidence: 0, threads: 1, adaptive: true },
    });
    await using runtime = await loadModelRuntime({ llama, config, mode: "draft", threads: { target: 1, draft: 1 }, keepDrafting: () => true });
    const sequence = runtime.sequences[0]!;
    const predictor = runtime.predictors[0]!;
    predictor.draftThisRun(run);
    const completion = new LlamaCompletion({ contextSequence: sequence, autoDisposeSequence: false });
    try {
      const text = await completion.generateCompletion("abc", { maxTokens: 100, repeatPenalty: false });
      expect(text).toBe(expectedGreedyText("abc", 100, pair.options));
    } finally {
      sequence.tokenPredictor?.stop();
      completion.dispose();
    }
    return { changes: predictor.modeChanges.map((change) => change.afterTokens), predictions: sequence.tokenPredictions };
  }

  test("a draft that joins a run after its plain slice keeps the text and drafts the rest", async () => {
    const { changes, predictions } = await slicedRun({ drafting: false, switchAfter: 20 });
    expect(changes).toEqual([20]);
    expect(predictions.refuted).toBe(0);
    // The 80 tokens after the slice were drafted; the first 20 were not.
    expect(predictions.used).toBeGreaterThan(40);
    expect(predictions.used).toBeLessThanOrEqual(80);
  });

  test("a run that measures both modes drafts a slice, runs a plain one, then lets the draft rejoin - the text unchanged", async () => {
    const slices: boolean[][] = [];
    const { changes, predictions } = await slicedRun({ drafting: true, switchAfter: 20, chooseRest: (seen) => slices.push(seen.map((slice) => slice.drafting)) > 0 });
    expect(slices).toEqual([[true, false]]);
    // A drafted step gives several tokens: the first slice ends at the step that reached 20, the plain one 20 tokens later.
    const [draftedUntil, plainUntil] = changes;
    expect(changes).toHaveLength(2);
    expect(draftedUntil).toBeGreaterThanOrEqual(20);
    expect(plainUntil).toBe(draftedUntil! + 20);
    expect(predictions.refuted).toBe(0);
    // Drafted: the first slice and the tokens after the plain one.
    expect(predictions.used).toBeGreaterThan(40);
    expect(predictions.used).toBeLessThanOrEqual(80);
  });
});
