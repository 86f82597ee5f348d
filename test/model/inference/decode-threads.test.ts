import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Llama, LlamaContext, Token } from "node-llama-cpp";
import { expectedGreedyText } from "../../../src/forge";
import type { Engine } from "../../../src/inference/engine";
import { createLlamaEngine } from "../../../src/inference/llama-engine";
import { type ForgedTinyPair, collect, forgeTinyPairs, modelConfig, sharedLlama, textRequest } from "./tiny-pair";

// The rebuilt addon (scripts/build-addon.ts) attaches a persistent ggml threadpool to each context,
// one per thread count it is handed. These tests hold it to the forge's exact greedy text, so the
// rebuilt and the prebuilt addon (which the text rule also describes) cannot disagree unseen.

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const TOKENS = 200;
// Generous: the model is tiny, but these decode whole contexts on a machine that may be busy.
const TIMEOUT_MS = 60_000;
const PROMPTS = ["abc", "xyz", "hello there"];
let forged: Awaited<ReturnType<typeof forgeTinyPairs>>;
let pair: ForgedTinyPair;
let llama: Llama;
const engines: Engine[] = [];

function engineWith(threads: number, parallel: number): Engine {
  const engine = createLlamaEngine({
    config: { engine: { gpu: "cpu", max_threads: 2 }, models: [modelConfig({ id: "tiny", path: pair.target, threads, parallel, context_size: 512 })] },
    logger: silent,
    loadLlama: async () => llama,
  });
  engines.push(engine);
  return engine;
}

const greedy = (prompt: string) => textRequest("tiny", prompt, { sampling: { ...textRequest("", "").sampling, maxTokens: TOKENS, temperature: 0 } });
const expected = (prompt: string) => expectedGreedyText(prompt, TOKENS, pair.options);

beforeAll(async () => {
  forged = await forgeTinyPairs([0.2]);
  pair = forged.pairs.get(0.2)!;
  llama = await sharedLlama();
});

afterAll(async () => {
  for (const engine of engines) await engine[Symbol.asyncDispose]();
  forged?.[Symbol.dispose]();
});

describe("decoding on a persistent threadpool", () => {
  test("Should decode the forge's exact greedy text at 1 and at 2 threads - the pool changes who computes, not what", async () => {
    for (const threads of [1, 2]) {
      const engine = engineWith(threads, 1);
      await engine.start();
      const { text, done } = await collect(await engine.generate(greedy(PROMPTS[0]!)));
      expect(text, `threads ${threads}`).toBe(expected(PROMPTS[0]!));
      expect(done?.finishReason).toBe("length");
      expect(engine.models()[0]!.busySequences).toBe(0);
    }
  }, TIMEOUT_MS);

  test("Should give each of concurrent sequences its own exact text and free every one - one pool serves the whole batch", async () => {
    const engine = engineWith(2, PROMPTS.length);
    await engine.start();
    const results = await Promise.all(PROMPTS.map(async (prompt) => collect(await engine.generate(greedy(prompt)))));
    expect(results.map((result) => result.text)).toEqual(PROMPTS.map(expected));
    expect(engine.models()[0]!.busySequences).toBe(0);
  }, TIMEOUT_MS);

  test("Should keep the exact text while two contexts share two threads - the splitter switches each between pools of 1 and 2", async () => {
    const model = await llama.loadModel({ modelPath: pair.target });
    const contexts: LlamaContext[] = [];
    try {
      for (let i = 0; i < 2; i++) contexts.push(await model.createContext({ contextSize: 512, threads: { ideal: 2, min: 1 } }));
      const prompts = PROMPTS.slice(0, 2);
      const decode = async (context: LlamaContext, prompt: string) => {
        const sequence = context.getSequence();
        const tokens: Token[] = [];
        for await (const token of sequence.evaluate(model.tokenize(prompt), { temperature: 0 })) {
          tokens.push(token);
          if (tokens.length >= TOKENS) break;
        }
        sequence.dispose();
        return model.detokenize(tokens);
      };
      const together = await Promise.all(contexts.map((context, i) => decode(context, prompts[i]!)));
      const alone = await decode(contexts[0]!, prompts[0]!);
      expect(together).toEqual(prompts.map(expected));
      expect(alone).toBe(expected(prompts[0]!));
    } finally {
      for (const context of contexts) await context.dispose();
      await model.dispose();
    }
  }, TIMEOUT_MS);
});
