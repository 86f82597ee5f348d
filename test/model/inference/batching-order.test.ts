import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Llama, LlamaContextSequence, Token } from "node-llama-cpp";
import { expectedGreedyText } from "../../../src/forge";
import { createLlamaEngine } from "../../../src/inference/llama-engine";
import { type ForgedTinyPair, collect, forgeTinyPairs, modelConfig, sharedLlama, textRequest } from "./tiny-pair";

// By default contexts keep every sequence's KV cells in one unified cache, so llama.cpp batches any set of busy
// sequences together and their cells interleave. These tests hold each sequence to the forge's exact
// greedy text whichever sequences run beside it and whatever the others left in the cache.

const silent = { debug() {}, info() {}, warn() {}, error() {} };
// Generous: the model is tiny, but these decode many sequences on a machine that may be busy.
const TIMEOUT_MS = 60_000;
let forged: Awaited<ReturnType<typeof forgeTinyPairs>>;
let pair: ForgedTinyPair;
let llama: Llama;

beforeAll(async () => {
  forged = await forgeTinyPairs([0.2]);
  pair = forged.pairs.get(0.2)!;
  llama = await sharedLlama();
});

afterAll(() => {
  forged?.[Symbol.dispose]();
});

const expected = (prompt: string, tokens: number) => expectedGreedyText(prompt, tokens, pair.options);

describe("batching sequences in any order", () => {
  test("Should give sequences on scattered ids their own exact text - idle neighbours' cells sit between theirs", async () => {
    const model = await llama.loadModel({ modelPath: pair.target });
    const context = await model.createContext({ contextSize: 256, sequences: 8, threads: 2, kvUnified: true });
    try {
      const sequences = Array.from({ length: 8 }, () => context.getSequence());
      const decode = async (sequence: LlamaContextSequence, prompt: string, tokens: number) => {
        const generated: Token[] = [];
        for await (const token of sequence.evaluate(model.tokenize(prompt), { temperature: 0 })) {
          generated.push(token);
          if (generated.length >= tokens) break;
        }
        return model.detokenize(generated);
      };
      const prompts = ["abc", "xyz", "hello there", "q", "mno", "a b c", "zz", "lorem"];
      // Every sequence first writes cells, in one batch, so the cache interleaves all eight.
      expect(await Promise.all(sequences.map((sequence, i) => decode(sequence, prompts[i]!, 40)))).toEqual(prompts.map((prompt) => expected(prompt, 40)));
      const scattered = [1, 4, 6];
      for (const id of scattered) await sequences[id]!.clearHistory();
      const again = await Promise.all(scattered.map((id) => decode(sequences[id]!, prompts[(id + 3) % 8]!, 120)));
      expect(again).toEqual(scattered.map((id) => expected(prompts[(id + 3) % 8]!, 120)));
    } finally {
      await context.dispose();
      await model.dispose();
    }
  }, TIMEOUT_MS);

  test.each([true, false])("Should keep every request's exact text and free every sequence - arrivals and departures in shuffled order (kv_unified %p)", async (kvUnified) => {
    const engine = createLlamaEngine({
      config: { engine: { gpu: "cpu", max_threads: 2 }, models: [modelConfig({ id: "tiny", path: pair.target, parallel: 4, queue_size: 16, context_size: 256, kv_unified: kvUnified })] },
      logger: silent,
      loadLlama: async () => llama,
    });
    try {
      await engine.start();
      // Lengths and start offsets differ, so requests end in another order than they began and later ones take whichever sequences are free.
      const plan = [
        { prompt: "abc", tokens: 150, afterMs: 0 },
        { prompt: "xyz", tokens: 20, afterMs: 0 },
        { prompt: "hello there", tokens: 90, afterMs: 5 },
        { prompt: "q", tokens: 10, afterMs: 5 },
        { prompt: "mno", tokens: 60, afterMs: 15 },
        { prompt: "lorem", tokens: 120, afterMs: 20 },
        { prompt: "zz", tokens: 30, afterMs: 30 },
        { prompt: "a b c", tokens: 80, afterMs: 40 },
      ];
      const results = await Promise.all(
        plan.map(async ({ prompt, tokens, afterMs }) => {
          await Bun.sleep(afterMs);
          const request = textRequest("tiny", prompt, { sampling: { ...textRequest("", "").sampling, maxTokens: tokens, temperature: 0 } });
          return (await collect(await engine.generate(request))).text;
        }),
      );
      expect(results).toEqual(plan.map(({ prompt, tokens }) => expected(prompt, tokens)));
      expect(engine.models()[0]!.busySequences).toBe(0);
    } finally {
      await engine[Symbol.asyncDispose]();
    }
  }, TIMEOUT_MS);
});
