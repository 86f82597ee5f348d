import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DraftSequenceTokenPredictor,
  type Llama,
  LlamaChatSession,
  LlamaCompletion,
  type LlamaContext,
  LlamaLogLevel,
  type LlamaModel,
  getLlama,
} from "node-llama-cpp";
import { expectedChatReply, expectedGreedyText } from "../../../src/forge/expected-greedy-text";
import { type ForgeOptions, presets } from "../../../src/forge/forge-options";
import { forgePair } from "../../../src/forge/forge-pair";

const dir = mkdtempSync(join(tmpdir(), "enclave-forge-model-"));
const tiny = presets.tiny;
const agreeing: ForgeOptions = { ...tiny, preset: "tiny-agree", draftDisagreement: 0 };
const warnings: string[] = [];
let llama: Llama;
const models: LlamaModel[] = [];
const contexts = new Map<string, LlamaContext>();

async function load(options: ForgeOptions, which: "target" | "draft"): Promise<LlamaContext> {
  const modelPath = join(dir, `${options.preset}-${which}.gguf`);
  const loaded = contexts.get(modelPath);
  if (loaded) return loaded;
  const model = await llama.loadModel({ modelPath });
  const context = await model.createContext({ contextSize: 512, threads: 1, sequences: 2 });
  models.push(model);
  contexts.set(modelPath, context);
  return context;
}

async function complete(context: LlamaContext, prompt: string, maxTokens: number): Promise<string> {
  const completion = new LlamaCompletion({ contextSequence: context.getSequence(), autoDisposeSequence: true });
  try {
    return await completion.generateCompletion(prompt, { maxTokens, temperature: 0 });
  } finally {
    completion.dispose();
  }
}

let target: LlamaContext;
let draft: LlamaContext;
beforeAll(async () => {
  await forgePair(tiny, dir);
  await forgePair(agreeing, dir);
  // Two threads at most: node-llama-cpp's default of four is dozens of times slower on two cores.
  llama = await getLlama({
    gpu: false,
    build: "never",
    skipDownload: true,
    maxThreads: 2,
    logLevel: LlamaLogLevel.warn,
    logger: (level, message) => warnings.push(`${level}: ${message}`),
  });
  target = await load(tiny, "target");
  draft = await load(tiny, "draft");
});

afterAll(async () => {
  for (const context of contexts.values()) await context.dispose();
  for (const model of models) await model.dispose();
  await llama?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe("forged tiny pair in llama.cpp", () => {
  test("Should load both models without a warning", () => {
    expect(warnings).toEqual([]);
    expect(models.map((m) => m.trainContextSize)).toEqual([tiny.contextLength, tiny.contextLength]);
  });

  const prompts: [string, number][] = [
    ["a", 60],
    ["The quick brown fox", 20],
    ["z", 5],
    ["x9", 12],
    ["ABC", 40],
    ["Hello.", 10],
    ["café", 4],
  ];
  test.each(prompts)("Should complete %p greedily as expectedGreedyText says (%d tokens)", async (prompt, maxTokens) => {
    expect(await complete(target, prompt, maxTokens)).toBe(expectedGreedyText(prompt, maxTokens, tiny, "target"));
  });

  test("Should make the draft differ from the target exactly where its disagreements are", async () => {
    const text = await complete(draft, "a", 40);
    expect(text).toBe(expectedGreedyText("a", 40, tiny, "draft"));
    expect(text).not.toBe(expectedGreedyText("a", 40, tiny, "target"));
  });

  test("Should make the draft agree with the target - when disagreement is 0", async () => {
    const agreeingDraft = await load(agreeing, "draft");
    expect(await complete(agreeingDraft, "a", 60)).toBe(expectedGreedyText("a", 60, tiny, "target"));
  });

  test("Should reply in chat through the GGUF's own ChatML template as predicted", async () => {
    const session = new LlamaChatSession({ contextSequence: target.getSequence(), autoDisposeSequence: true });
    try {
      expect(session.chatWrapper.wrapperName).toBe("ChatML");
      expect(await session.prompt("Hi there, who are you?", { temperature: 0 })).toBe(expectedChatReply(tiny));
      expect(await session.prompt("And again?", { maxTokens: 5, temperature: 0 })).toBe(expectedChatReply(tiny, "target", 5));
    } finally {
      session.dispose();
    }
  });

  // minTokens makes the target wait for the draft, so the counts do not depend on timing.
  async function speculate(draftContext: LlamaContext) {
    const tokenPredictor = new DraftSequenceTokenPredictor(draftContext.getSequence(), { minTokens: 4, maxTokens: 4 });
    const sequence = target.getSequence({ tokenPredictor });
    const completion = new LlamaCompletion({ contextSequence: sequence });
    try {
      const text = await completion.generateCompletion("a", { maxTokens: 60, temperature: 0 });
      return { text, ...sequence.tokenPredictions };
    } finally {
      // The sequence first: it stops the predictor, which still reads the completion's settings.
      sequence.dispose();
      completion.dispose();
    }
  }

  test("Should keep the target's text under speculative decoding - refuting the draft where it disagrees", async () => {
    const result = await speculate(draft);
    expect(result.text).toBe(expectedGreedyText("a", 60, tiny, "target"));
    expect(result.validated).toBeGreaterThan(0);
    expect(result.refuted).toBeGreaterThan(0);
  });

  test("Should accept every draft token under speculative decoding - when disagreement is 0", async () => {
    const result = await speculate(await load(agreeing, "draft"));
    expect(result.text).toBe(expectedGreedyText("a", 60, tiny, "target"));
    expect(result.validated).toBeGreaterThan(0);
    expect(result.refuted).toBe(0);
  });
});
