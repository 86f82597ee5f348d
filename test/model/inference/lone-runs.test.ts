import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { LlamaChat, LlamaContext, type Llama } from "node-llama-cpp";
import { expectedGreedyText } from "../../../src/forge";
import { loadModelRuntime, type ModelRuntime } from "../../../src/inference/model-runtime";
import { complete, forgeTinyPairs, interruptEveryRun, modelConfig, sharedLlama } from "./tiny-pair";

// The patch decodes a lone sequence's tokens in runs: on the JavaScript thread for up to
// LlamaContext.loneRunMs (a fast model on the CPU), or in one async work of the addon for up to
// LlamaContext.workerRunMs (a GPU, or a CPU with cores to spare): each token sampled from the last
// before the generation loop asks for it, and the ones it never asks for (a stop, an abort, a caller
// that takes another token) erased from the sequence. These hold a run, both ways, to what decoding
// one token per call gives: the same text, the same tokens left in the sequence, and no run where
// sampling follows the text (functions, a grammar).

let forged: Awaited<ReturnType<typeof forgeTinyPairs>>;
let llama: Llama;

beforeAll(async () => {
  forged = await forgeTinyPairs([0.2]);
  llama = await sharedLlama();
});

afterAll(() => forged?.[Symbol.dispose]());

const pair = () => forged.pairs.get(0.2)!;
const tinyRuntime = (contextSize = 256) =>
  loadModelRuntime({
    llama,
    config: modelConfig({ id: "tiny", path: pair().target, parallel: 1, context_size: contextSize, speculative: "none" }),
    mode: "none",
    threads: { target: 2, draft: 1 },
    keepDrafting: () => false,
  });

type RunLimit = "loneRunMs" | "workerRunMs";

/**
 * Where the runs decode: on the JavaScript thread, or in async works, forced here by a limit of 0 for tokens on the
 * JavaScript thread; each with its own run length.
 */
const places = [
  { place: "on the JavaScript thread", runLimit: "loneRunMs" as RunLimit, inWorker: false },
  { place: "in async works", runLimit: "workerRunMs" as RunLimit, inWorker: true },
];

let runLimit: RunLimit = "loneRunMs";

/** Sets the runs' length limit for one test; 0 decodes one token per call. */
function loneRunMs(ms: number): Disposable {
  const limit = runLimit;
  const before = LlamaContext[limit];
  LlamaContext[limit] = ms;
  return { [Symbol.dispose]: () => void (LlamaContext[limit] = before) };
}

/** Counts the lone path's calls (one per run) and the tokens they decode. */
function countRuns(): { calls: number; tokens: number; lengths: number[] } & Disposable {
  const prototype = LlamaContext.prototype as unknown as { _decodeOneAndSample: (...args: unknown[]) => Promise<number[]> };
  const original = prototype._decodeOneAndSample;
  const counts = {
    calls: 0,
    tokens: 0,
    lengths: [] as number[],
    [Symbol.dispose]: () => void (prototype._decodeOneAndSample = original),
  };
  prototype._decodeOneAndSample = async function (this: unknown, ...args: unknown[]) {
    const sampled = await original.apply(this, args);
    counts.calls++;
    counts.tokens += sampled.length;
    counts.lengths.push(sampled.length);
    return sampled;
  };
  return counts;
}

/** The same generation with runs and one token per call, each on a fresh sequence. */
async function bothWays<T>(generate: (runtime: ModelRuntime) => Promise<T>): Promise<{ runs: T; single: T }> {
  await using runtime = await tinyRuntime();
  const runs = await generate(runtime);
  await runtime.sequences[0]!.clearHistory();
  using _single = loneRunMs(0);
  return { runs, single: await generate(runtime) };
}

describe.each(places)("a lone sequence's runs $place", ({ runLimit: limit, inWorker }) => {
  const jsThreadLimits = ["decodeOnJsThreadBelowMs", "decodeOnFullCpuJsThreadBelowMs"] as const;
  let before: number[] = [];
  beforeEach(() => {
    runLimit = limit;
    before = jsThreadLimits.map((name) => LlamaContext[name]);
    if (inWorker) for (const name of jsThreadLimits) LlamaContext[name] = 0;
  });
  afterEach(() => {
    runLimit = "loneRunMs";
    jsThreadLimits.forEach((name, index) => void (LlamaContext[name] = before[index]!));
  });

  test("Should decode a fast lone stream in runs - the forge's exact greedy text in fewer calls than tokens, and the same tokens left in the sequence as one token per call", async () => {
    using counts = countRuns();
    const { runs, single } = await bothWays(async (runtime) => {
      // The first tokens time the decode, in async works; runs start once it is known to be fast.
      await complete(runtime.sequences[0]!, "xyz", { maxTokens: 20 });
      return complete(runtime.sequences[0]!, "abc", { maxTokens: 100 });
    });
    expect(runs.text).toBe(expectedGreedyText("abc", 100, pair().options));
    expect(runs).toEqual(single);
    expect(counts.calls).toBeLessThan(counts.tokens);
  });

  test("Should decode one token per call with the run limit at 0 (loneRunMs, or workerRunMs in async works) - every call a token", async () => {
    using _single = loneRunMs(0);
    await using runtime = await tinyRuntime();
    using counts = countRuns();
    expect((await complete(runtime.sequences[0]!, "abc", { maxTokens: 60 })).text).toBe(expectedGreedyText("abc", 60, pair().options));
    expect(counts.calls).toBe(counts.tokens);
  });

  test("Should end a run where it is interrupted - one token per call while it is, the forge's exact text", async () => {
    await using runtime = await tinyRuntime();
    await complete(runtime.sequences[0]!, "xyz", { maxTokens: 20 });
    using interrupted = interruptEveryRun(inWorker);
    using counts = countRuns();
    expect((await complete(runtime.sequences[0]!, "abc", { maxTokens: 100 })).text).toBe(expectedGreedyText("abc", 100, pair().options));
    expect(interrupted.interrupts).toBeGreaterThan(10);
    expect(counts.calls).toBe(counts.tokens);
  });

  test("Should give a cached prompt's first token alone and grow runs no faster than the generation - its answer starts after one token's decode, and a burst's requests join before runs grow", async () => {
    await using runtime = await tinyRuntime();
    await complete(runtime.sequences[0]!, "abc", { maxTokens: 20 });
    using counts = countRuns();
    // The prompt is in the sequence already: only its last token is decoded, on the lone path.
    expect((await complete(runtime.sequences[0]!, "abc", { maxTokens: 40 })).text).toBe(expectedGreedyText("abc", 40, pair().options));
    expect(counts.tokens).toBe(40);
    expect(counts.lengths[0]).toBe(1);
    counts.lengths.forEach((length, call) => {
      const given = counts.lengths.slice(0, call).reduce((sum, before) => sum + before, 0);
      expect(length).toBeLessThanOrEqual(Math.max(1, given));
    });
    expect(counts.calls).toBeLessThan(40);
  });

  test("Should never decode past max_tokens - a run stops at the tokens the generation may still produce", async () => {
    await using runtime = await tinyRuntime();
    await complete(runtime.sequences[0]!, "xyz", { maxTokens: 20 });
    using counts = countRuns();
    const { text, stopReason } = await complete(runtime.sequences[0]!, "hello there", { maxTokens: 37 });
    expect(text).toBe(expectedGreedyText("hello there", 37, pair().options));
    expect(stopReason).toBe("maxTokens");
    // The prompt's first token comes from the batch; every other one from a run, none beyond the 37th.
    expect(counts.tokens).toBe(36);
  });

  test("Should fill the context in runs as one token per call does - a generation of all the room left, as Enclave plans it, gives the same text and tokens, without a context shift", async () => {
    using counts = countRuns();
    const { runs, single } = await bothWays(async (runtime) => {
      await complete(runtime.sequences[0]!, "xyz", { maxTokens: 20 });
      // Enclave's plan: max_tokens at most the context less the prompt, BOS included
      const room = 256 - 1 - runtime.model.tokenize("abc", false, "trimLeadingSpace").length;
      return { room, ...(await complete(runtime.sequences[0]!, "abc", { maxTokens: room, disableContextShift: true })) };
    });
    expect(runs.text).toBe(expectedGreedyText("abc", runs.room, pair().options));
    expect(runs.contextTokens.length).toBe(255);
    expect(runs).toEqual(single);
    expect(counts.calls).toBeLessThan(counts.tokens);
  });

  test("Should erase a run's tokens past a stop string - the same text and the same tokens left in the sequence as one token per call", async () => {
    const stop = expectedGreedyText("abc", 60, pair().options).slice(30, 33);
    const { runs, single } = await bothWays(async (runtime) => {
      await complete(runtime.sequences[0]!, "xyz", { maxTokens: 20 });
      return complete(runtime.sequences[0]!, "abc", { maxTokens: 60, customStopTriggers: [stop] });
    });
    expect(runs.stopReason).toBe("customStopTrigger");
    expect(runs).toEqual(single);
  });

  test("Should erase a run's tokens past an abort - the sequence keeps only what was given, and the next generation is exact", async () => {
    await using runtime = await tinyRuntime();
    const sequence = runtime.sequences[0]!;
    await complete(sequence, "xyz", { maxTokens: 20 });
    const abort = new AbortController();
    let given = 0;
    const { stopReason, contextTokens } = await complete(sequence, "abc", {
      maxTokens: 100,
      signal: abort.signal,
      stopOnAbortSignal: true,
      onToken: (tokens) => {
        given += tokens.length;
        if (given >= 25) abort.abort();
      },
    });
    expect(stopReason).toBe("abort");
    const prompt = sequence.model.tokenize("abc", false, "trimLeadingSpace");
    const bos = sequence.model.tokens.bos!;
    // BOS, the prompt, and every token given but the last (sampled, not decoded)
    expect(contextTokens.length).toBe(1 + prompt.length + given - 1);
    expect((await complete(sequence, "hello there", { maxTokens: 40 })).text).toBe(expectedGreedyText("hello there", 40, pair().options));
    expect(contextTokens[0]).toBe(bos);
  });

  test("Should sample the same tokens in runs at a temperature - each from the last, as one token per call does", async () => {
    const { runs, single } = await bothWays(async (runtime) => {
      await complete(runtime.sequences[0]!, "xyz", { maxTokens: 20 });
      return complete(runtime.sequences[0]!, "abc", { maxTokens: 80, temperature: 0.9, seed: 7 });
    });
    expect(runs).toEqual(single);
  });

  test("Should decode a chat's response in runs - the same text as one token per call", async () => {
    using counts = countRuns();
    const { runs, single } = await bothWays(async (runtime) => {
      const chat = new LlamaChat({ contextSequence: runtime.sequences[0]!, chatWrapper: runtime.chatWrapper, autoDisposeSequence: false });
      try {
        const history = [{ type: "user" as const, text: "abc" }, { type: "model" as const, response: [] }];
        await chat.generateResponse(history, { maxTokens: 20, repeatPenalty: false });
        return (await chat.generateResponse([{ type: "user" as const, text: "hello there" }, { type: "model" as const, response: [] }], { maxTokens: 80, repeatPenalty: false })).response;
      } finally {
        chat.dispose();
      }
    });
    expect(runs).toBe(single);
    expect(counts.calls).toBeLessThan(counts.tokens);
  });

  test("Should decode one token per call while a chat may call functions - sampling follows the text there", async () => {
    // The functions' documentation makes a long prompt.
    await using runtime = await tinyRuntime(2048);
    const chat = new LlamaChat({ contextSequence: runtime.sequences[0]!, chatWrapper: runtime.chatWrapper, autoDisposeSequence: false });
    try {
      const functions = { lookup: { description: "looks a word up", params: { type: "object", properties: { word: { type: "string" } } } } } as const;
      const history = [{ type: "user" as const, text: "abc" }, { type: "model" as const, response: [] }];
      await chat.generateResponse(history, { maxTokens: 20, repeatPenalty: false, functions });
      using counts = countRuns();
      await chat.generateResponse(history, { maxTokens: 60, repeatPenalty: false, functions });
      expect(counts.tokens).toBeGreaterThan(0);
      expect(counts.calls).toBe(counts.tokens);
    } finally {
      chat.dispose();
    }
  });

  describe("with a draft", () => {
    const draftRuntime = () => {
      const draft = { path: pair().draft, min_tokens: 1, max_tokens: 8, min_confidence: 0, threads: 1, adaptive: true };
      const config = modelConfig({ id: "tiny", path: pair().target, parallel: 1, context_size: 256, speculative: "draft", draft });
      return loadModelRuntime({ llama, config, mode: "draft", threads: { target: 2, draft: 1 }, keepDrafting: () => true });
    };

    test("Should decode in runs while the draft is paused for the whole run - the forge's exact greedy text", async () => {
      await using runtime = await draftRuntime();
      runtime.predictors[0]!.draftThisRun({ drafting: false });
      await complete(runtime.sequences[0]!, "xyz", { maxTokens: 20 });
      runtime.predictors[0]!.draftThisRun({ drafting: false });
      using counts = countRuns();
      expect((await complete(runtime.sequences[0]!, "abc", { maxTokens: 100 })).text).toBe(expectedGreedyText("abc", 100, pair().options));
      expect(counts.calls).toBeLessThan(counts.tokens);
    });

    test("Should decode one token per call while a draft may join the run - its slice starts on time, and the text is exact", async () => {
      await using runtime = await draftRuntime();
      runtime.predictors[0]!.draftThisRun({ drafting: false });
      await complete(runtime.sequences[0]!, "xyz", { maxTokens: 20 });
      // A plain slice of 24 tokens, then the draft joins for the rest.
      runtime.predictors[0]!.draftThisRun({ drafting: false, switchAfter: 24 });
      using counts = countRuns();
      expect((await complete(runtime.sequences[0]!, "abc", { maxTokens: 100 })).text).toBe(expectedGreedyText("abc", 100, pair().options));
      expect(counts.calls).toBe(counts.tokens);
      expect(runtime.predictors[0]!.modeChanges.map((change) => change.afterTokens)).toEqual([24]);
    });
  });
});
