import { afterAll, beforeAll, describe, expect, spyOn, test } from "bun:test";
import { availableParallelism } from "node:os";
import { getLlama, LlamaCompletion, LlamaContext, type Llama, type Token } from "node-llama-cpp";
import { modelSchema } from "../../../src/config/schema";
import { expectedGreedyText } from "../../../src/forge";
import { loadModelRuntime, type ModelRuntime } from "../../../src/inference/model-runtime";
import { forgeTinyPairs, internals, modelConfig, sharedLlama } from "./tiny-pair";

// How a loaded model's context decodes: the flash attention setting reaches llama.cpp, and the patch
// decodes a lone sequence's tokens past node-llama-cpp's batch queue (decode and sample in one call:
// on the JavaScript thread while its tokens are fast and nothing else in the process generates, in an
// async work otherwise) while a sequence with company goes back to the shared batch, whose short steps
// also decode on the JavaScript thread when the CPU computes them on every core.

let forged: Awaited<ReturnType<typeof forgeTinyPairs>>;
let llama: Llama;
// The JavaScript thread takes slower lone tokens and a batch's steps only where the CPU computes them with a thread per
// core: a Llama without the tests' thread limit, and a context with as many threads as the machine has cores.
let unlimited: Llama;
const everyCore = () => ({ target: unlimited.cpuMathCores, draft: 1 });

beforeAll(async () => {
  forged = await forgeTinyPairs([0.2]);
  llama = await sharedLlama();
  unlimited = await getLlama({ gpu: false, build: "never", skipDownload: true, maxThreads: 0, logLevel: "error" as never });
});

afterAll(() => forged?.[Symbol.dispose]());

/**
 * Counts the addon calls that decode: the batch path's decodeBatch (an async work) and decodeBatchNow (on
 * the calling thread), the lone path's decodeOneAndSample and decodeOneAndSampleNow, and sampleToken's
 * separate samplings. decodeRun, a run of steps in one async work, counts its tokens: a lone sequence's
 * as `alone`, a batch's steps as `batchRunSteps`.
 */
function countDecodes(context: LlamaContext) {
  const counts = { batch: 0, batchHere: 0, batchRunSteps: 0, alone: 0, aloneHere: 0, sampledApart: 0 };
  const internal = context as unknown as { _ctx: Record<string, unknown> };
  const addon = internal._ctx;
  internal._ctx = new Proxy(addon, {
    get(target, property) {
      const value = target[property as string];
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (property === "decodeBatch") counts.batch++;
        if (property === "decodeBatchNow") counts.batchHere++;
        if (property === "decodeOneAndSample") counts.alone++;
        if (property === "decodeOneAndSampleNow") counts.aloneHere++;
        if (property === "sampleToken") counts.sampledApart++;
        if (property === "decodeRun") {
          const sequences = (args[0] as Int32Array).length;
          return (value.apply(target, args) as Promise<Int32Array>).then((tokens) => {
            if (sequences === 1) counts.alone += tokens.length;
            else counts.batchRunSteps += tokens.length / sequences;
            return tokens;
          });
        }
        return value.apply(target, args);
      };
    },
  });
  return counts;
}

function generate(runtime: ModelRuntime, slot: number, prompt: string, maxTokens: number, onToken?: () => void) {
  const completion = new LlamaCompletion({ contextSequence: runtime.sequences[slot]!, autoDisposeSequence: false });
  return completion.generateCompletion(prompt, { maxTokens, repeatPenalty: false, onToken }).finally(() => completion.dispose());
}

/** 100 greedy tokens on the first slot, alone: the forge's exact text, the prompt in one batch and every later token on the one-token path. */
async function expectLoneStream(runtime: ModelRuntime, pair: { target: string; options: Parameters<typeof expectedGreedyText>[2] }) {
  const counts = countDecodes(runtime.context);
  expect(await generate(runtime, 0, "abc", 100)).toBe(expectedGreedyText("abc", 100, pair.options));
  expect(counts.batch).toBe(1);
  expect(counts.alone + counts.aloneHere).toBe(99);
  return counts;
}

type JsThreadLimit = "decodeOnJsThreadBelowMs" | "decodeOnFullCpuJsThreadBelowMs" | "decodeBatchOnJsThreadBelowMs";

/** Sets LlamaContext's limits for decoding on the JavaScript thread (the lone path's two by default) for one test. */
function decodeOnJsThreadBelow(ms: number, limits: JsThreadLimit[] = ["decodeOnJsThreadBelowMs", "decodeOnFullCpuJsThreadBelowMs"]): Disposable {
  const before = limits.map((limit) => LlamaContext[limit]);
  for (const limit of limits) LlamaContext[limit] = ms;
  return { [Symbol.dispose]: () => limits.forEach((limit, index) => void (LlamaContext[limit] = before[index]!)) };
}

/** Counts the event loop's turns while it runs, with a setImmediate chain. */
function countTurns() {
  const turns = { count: 0, running: true, [Symbol.dispose]: () => void (turns.running = false) };
  const turn = () => {
    turns.count++;
    if (turns.running) setImmediate(turn);
  };
  setImmediate(turn);
  return turns;
}

const tinyConfig = (parallel: number) => modelConfig({ id: "tiny", path: forged.pairs.get(0.2)!.target, parallel, context_size: 256, speculative: "none" });

describe("a lone sequence's decode", () => {
  test("Should decode a fast lone stream's tokens on the JavaScript thread once one has been timed - the forge's exact greedy text, the prompt alone through the batch", async () => {
    await using runtime = await loadModelRuntime({ llama, config: tinyConfig(2), mode: "none", threads: { target: 2, draft: 1 }, keepDrafting: () => false });
    const counts = await expectLoneStream(runtime, forged.pairs.get(0.2)!);
    // The first are timed in async works; a tiny model's tokens take a fraction of the 4 ms limit, on a busy machine too.
    expect(counts.alone).toBeGreaterThanOrEqual(1);
    expect(counts.aloneHere).toBeGreaterThanOrEqual(50);
  });

  test("Should keep a lone stream's tokens in async works when they take longer than decodeOnJsThreadBelowMs - the same text", async () => {
    using _limit = decodeOnJsThreadBelow(0);
    await using runtime = await loadModelRuntime({ llama, config: tinyConfig(1), mode: "none", threads: { target: 2, draft: 1 }, keepDrafting: () => false });
    const counts = await expectLoneStream(runtime, forged.pairs.get(0.2)!);
    expect(counts.aloneHere).toBe(0);
  });

  test("Should let the event loop run between the runs decoded on the JavaScript thread - a response's chunks go out after each", async () => {
    await using runtime = await loadModelRuntime({ llama, config: tinyConfig(1), mode: "none", threads: { target: 2, draft: 1 }, keepDrafting: () => false });
    const counts = countDecodes(runtime.context);
    // A run (see lone-runs.test.ts) is one call of the lone path, which decodes up to LlamaContext.loneRunMs of tokens.
    using runs = spyOn(internals(LlamaContext.prototype), "_decodeOneAndSample");
    using turns = countTurns();
    await generate(runtime, 0, "abc", 100);
    expect(counts.aloneHere).toBeGreaterThanOrEqual(50);
    // Between n runs there are n - 1 gaps; the counter's first turn can fall in the same turn as the first run's.
    expect(turns.count).toBeGreaterThanOrEqual(runs.mock.calls.length - 1);
  });

  test("Should decode on the worker threads while a sequence of another context generates - the JavaScript thread serves both", async () => {
    await using first = await loadModelRuntime({ llama, config: tinyConfig(1), mode: "none", threads: { target: 1, draft: 1 }, keepDrafting: () => false });
    await using second = await loadModelRuntime({ llama, config: tinyConfig(1), mode: "none", threads: { target: 1, draft: 1 }, keepDrafting: () => false });
    const counts = countDecodes(second.context);
    let firstDone = false;
    let started!: () => void;
    const firstStarted = new Promise<void>((resolve) => (started = resolve));
    const long = generate(first, 0, "abc", 250, () => started()).finally(() => (firstDone = true));
    await firstStarted;
    expect(await generate(second, 0, "xyz", 40)).toBe(expectedGreedyText("xyz", 40, forged.pairs.get(0.2)!.options));
    // The first context generated all along the second's run
    expect(firstDone).toBe(false);
    expect(counts.aloneHere).toBe(0);
    expect(counts.alone).toBe(39);
    expect(await long).toBe(expectedGreedyText("abc", 250, forged.pairs.get(0.2)!.options));
  });

  test("Should share the batch again once a second sequence decodes - each keeps its exact text, sampled by the batch's own decode", async () => {
    const pair = forged.pairs.get(0.2)!;
    await using runtime = await loadModelRuntime({ llama, config: tinyConfig(2), mode: "none", threads: { target: 2, draft: 1 }, keepDrafting: () => false });
    const counts = countDecodes(runtime.context);
    const first = generate(runtime, 0, "abc", 150);
    await Bun.sleep(5);
    const second = generate(runtime, 1, "xyz", 60);
    expect(await Promise.all([first, second])).toEqual([expectedGreedyText("abc", 150, pair.options), expectedGreedyText("xyz", 60, pair.options)]);
    // Shared steps decode both sequences in one batch: fewer decodes than tokens in all.
    expect(counts.batch + counts.batchHere).toBeGreaterThan(1);
    expect(counts.batch + counts.batchHere + counts.alone + counts.aloneHere).toBeLessThan(150 + 60);
    // decodeBatch samples each sequence's token after decoding: no round trip per sequence to sample it
    expect(counts.sampledApart).toBe(0);
  });
});

describe("a lone sequence's decode where the compute fills the CPU", () => {
  test("Should decode a lone stream's tokens on the JavaScript thread above decodeOnJsThreadBelowMs, up to decodeOnFullCpuJsThreadBelowMs - the forge's exact greedy text", async () => {
    // every tiny token counts as slow for the general limit
    using _limit = decodeOnJsThreadBelow(0, ["decodeOnJsThreadBelowMs"]);
    await using runtime = await loadModelRuntime({ llama: unlimited, config: tinyConfig(1), mode: "none", threads: everyCore(), keepDrafting: () => false });
    const counts = await expectLoneStream(runtime, forged.pairs.get(0.2)!);
    expect(counts.aloneHere).toBeGreaterThanOrEqual(50);
  });

  test("Should keep them in async works when the compute leaves cores to spare - the same text", async () => {
    // One thread fewer than the cores; on a single core, the tokens go to the JavaScript thread whatever this test asks
    if (unlimited.cpuMathCores < 2) return;
    using _limit = decodeOnJsThreadBelow(0, ["decodeOnJsThreadBelowMs"]);
    await using runtime = await loadModelRuntime({ llama: unlimited, config: tinyConfig(1), mode: "none", threads: { target: unlimited.cpuMathCores - 1, draft: 1 }, keepDrafting: () => false });
    const counts = await expectLoneStream(runtime, forged.pairs.get(0.2)!);
    expect(counts.aloneHere).toBe(0);
  });
});

describe("a batch's decode steps", () => {

  /** Two greedy streams on a two-slot context, started together: every step has both slots queued. */
  async function twoStreams(runtime: ModelRuntime, lengths = [150, 120]) {
    const pair = forged.pairs.get(0.2)!;
    const texts = await Promise.all([generate(runtime, 0, "abc", lengths[0]!), generate(runtime, 1, "xyz", lengths[1]!)]);
    expect(texts).toEqual([expectedGreedyText("abc", lengths[0]!, pair.options), expectedGreedyText("xyz", lengths[1]!, pair.options)]);
  }

  test("Should decode the short steps of concurrent streams on the JavaScript thread on the CPU - each keeps its exact greedy text, sampled by the step's own decode", async () => {
    await using runtime = await loadModelRuntime({ llama: unlimited, config: tinyConfig(2), mode: "none", threads: everyCore(), keepDrafting: () => false });
    const counts = countDecodes(runtime.context);
    await twoStreams(runtime);
    // The first steps are timed in async works; a tiny model's take a fraction of the 10 ms limit
    expect(counts.batch).toBeGreaterThanOrEqual(1);
    expect(counts.batchHere).toBeGreaterThanOrEqual(60);
    expect(counts.sampledApart).toBe(0);
  });

  test("Should keep each sequence's context tokens through the batch's steps - its prompt, then every generated token but the last (sampled, not yet decoded)", async () => {
    await using runtime = await loadModelRuntime({ llama: unlimited, config: tinyConfig(2), mode: "none", threads: everyCore(), keepDrafting: () => false });
    const prompts = ["abc", "xyz"];
    const generated: Token[][] = [[], []];
    await Promise.all(
      prompts.map((prompt, slot) => {
        const completion = new LlamaCompletion({ contextSequence: runtime.sequences[slot]!, autoDisposeSequence: false });
        return completion.generateCompletion(prompt, { maxTokens: 150 - 30 * slot, repeatPenalty: false, onToken: (tokens) => generated[slot]!.push(...tokens) }).finally(() => completion.dispose());
      }),
    );
    prompts.forEach((prompt, slot) => {
      expect(generated[slot]!.length).toBe(150 - 30 * slot);
      expect(runtime.sequences[slot]!.contextTokens).toEqual([runtime.model.tokens.bos!, ...runtime.model.tokenize(prompt, false, "trimLeadingSpace"), ...generated[slot]!.slice(0, -1)]);
    });
  });

  test("Should let the event loop run between the runs of steps decoded on the JavaScript thread - a response's chunks go out after each", async () => {
    await using runtime = await loadModelRuntime({ llama: unlimited, config: tinyConfig(2), mode: "none", threads: everyCore(), keepDrafting: () => false });
    const counts = countDecodes(runtime.context);
    // A dispatch on the JavaScript thread decodes a step and the run after it (see batch-runs.test.ts), if any.
    using runs = spyOn(internals(LlamaContext.prototype), "_runBatchAhead");
    using turns = countTurns();
    await twoStreams(runtime);
    expect(counts.batchHere).toBeGreaterThanOrEqual(60);
    expect(runs.mock.calls.length).toBeGreaterThanOrEqual(5);
    expect(turns.count).toBeGreaterThanOrEqual(runs.mock.calls.length - 1);
  });

  test("Should keep the steps in async works when they take longer than decodeBatchOnJsThreadBelowMs - the same texts", async () => {
    using _limit = decodeOnJsThreadBelow(0, ["decodeBatchOnJsThreadBelowMs"]);
    await using runtime = await loadModelRuntime({ llama: unlimited, config: tinyConfig(2), mode: "none", threads: everyCore(), keepDrafting: () => false });
    const counts = countDecodes(runtime.context);
    await twoStreams(runtime);
    expect(counts.batchHere).toBe(0);
    expect(counts.batch + counts.batchRunSteps).toBeGreaterThanOrEqual(100);
  });

  test("Should keep the steps in async works when the compute leaves cores to spare - the JavaScript work around a step overlaps it there", async () => {
    // One thread fewer than the cores; on a single core, the steps go to the JavaScript thread whatever this test asks
    if (unlimited.cpuMathCores < 2) return;
    await using runtime = await loadModelRuntime({ llama: unlimited, config: tinyConfig(2), mode: "none", threads: { target: unlimited.cpuMathCores - 1, draft: 1 }, keepDrafting: () => false });
    const counts = countDecodes(runtime.context);
    await twoStreams(runtime);
    expect(counts.batchHere).toBe(0);
  });

  test("Should keep the steps in async works while a sequence of another context generates - the JavaScript thread serves both", async () => {
    const pair = forged.pairs.get(0.2)!;
    // Room for a stream that outlasts the two others whatever the machine's load, stopped once they are done
    const roomy = modelConfig({ id: "tiny", path: pair.target, parallel: 1, context_size: 4096, speculative: "none" });
    await using other = await loadModelRuntime({ llama: unlimited, config: roomy, mode: "none", threads: everyCore(), keepDrafting: () => false });
    await using runtime = await loadModelRuntime({ llama: unlimited, config: tinyConfig(2), mode: "none", threads: everyCore(), keepDrafting: () => false });
    const stop = new AbortController();
    let otherDone = false;
    let started!: () => void;
    const otherStarted = new Promise<void>((resolve) => (started = resolve));
    const completion = new LlamaCompletion({ contextSequence: other.sequences[0]!, autoDisposeSequence: false });
    const long = completion
      .generateCompletion("abd", { maxTokens: 4000, repeatPenalty: false, onToken: () => started(), signal: stop.signal, stopOnAbortSignal: true })
      .finally(() => {
        otherDone = true;
        completion.dispose();
      });
    await otherStarted;
    const counts = countDecodes(runtime.context);
    await twoStreams(runtime, [40, 30]);
    expect(otherDone).toBe(false);
    stop.abort();
    expect(counts.batchHere).toBe(0);
    const text = await long;
    expect(text.length).toBeGreaterThan(0);
    expect(expectedGreedyText("abd", 4000, pair.options).startsWith(text)).toBe(true);
  });
});

describe("the thread that decodes", () => {
  /** libc's affinity calls for the calling thread, through bun:ffi. */
  async function threadAffinity() {
    const { dlopen, FFIType, ptr } = await import("bun:ffi");
    const libc = dlopen("libc.so.6", {
      sched_getaffinity: { args: [FFIType.i32, FFIType.u64, FFIType.ptr], returns: FFIType.i32 },
      sched_setaffinity: { args: [FFIType.i32, FFIType.u64, FFIType.ptr], returns: FFIType.i32 },
      sched_getcpu: { args: [], returns: FFIType.i32 },
    });
    const get = () => {
      const mask = new Uint8Array(128);
      expect(libc.symbols.sched_getaffinity(0, mask.byteLength, ptr(mask))).toBe(0);
      return mask;
    };
    const set = (mask: Uint8Array) => expect(libc.symbols.sched_setaffinity(0, mask.byteLength, ptr(mask))).toBe(0);
    const cpus = (mask: Uint8Array) => [...mask].flatMap((byte, index) => [0, 1, 2, 3, 4, 5, 6, 7].filter((bit) => byte & (1 << bit)).map((bit) => index * 8 + bit));
    return { get, set, cpus, cpu: () => libc.symbols.sched_getcpu(), [Symbol.dispose]: () => libc.close() };
  }

  test.skipIf(availableParallelism() < 2)("Should leave the JavaScript thread's affinity as it was - after decodes that each found it moved to another CPU, and the same text", async () => {
    await using runtime = await loadModelRuntime({ llama, config: tinyConfig(1), mode: "none", threads: { target: 2, draft: 1 }, keepDrafting: () => false });
    using affinity = await threadAffinity();
    const original = affinity.get();
    const allowed = affinity.cpus(original);
    const counts = countDecodes(runtime.context);
    let moves = 0;
    let pinnedAfterADecode = 0;
    // Each token, the thread goes to another CPU and gets its whole mask back, as after a wake on another core:
    // the next decode finds it off the CPU the last one ran on
    const moveAway = () => {
      if (!Bun.deepEquals(affinity.get(), original)) pinnedAfterADecode++;
      const elsewhere = allowed.find((cpu) => cpu !== affinity.cpu())!;
      const only = new Uint8Array(128);
      only[elsewhere >> 3] = 1 << (elsewhere & 7);
      affinity.set(only);
      affinity.set(original);
      moves++;
    };
    expect(await generate(runtime, 0, "abc", 100, moveAway)).toBe(expectedGreedyText("abc", 100, forged.pairs.get(0.2)!.options));
    expect(counts.aloneHere).toBeGreaterThanOrEqual(50);
    expect(moves).toBeGreaterThanOrEqual(99);
    expect(pinnedAfterADecode).toBe(0);
    expect(affinity.get()).toEqual(original);
  });
});

describe("a sequence with a draft", () => {
  const draftConfig = () => {
    const pair = forged.pairs.get(0.2)!;
    const draft = { path: pair.draft, min_tokens: 1, max_tokens: 8, min_confidence: 0, threads: 1, adaptive: true };
    return modelConfig({ id: "tiny", path: pair.target, parallel: 1, context_size: 256, speculative: "draft", draft });
  };

  test("Should decode its lone stream on the one-token path when not drafting, as without a draft - the forge's exact greedy text", async () => {
    // Adaptive drafting paused: the predictor proposes nothing.
    await using runtime = await loadModelRuntime({ llama, config: draftConfig(), mode: "draft", threads: { target: 2, draft: 1 }, keepDrafting: () => false });
    await expectLoneStream(runtime, forged.pairs.get(0.2)!);
  });

  test("Should end the draft's generation with each drafting run - a lone stream of another model then decodes on the JavaScript thread", async () => {
    const pair = forged.pairs.get(0.2)!;
    // Runs of 2 tokens: the draft keeps reaching max_tokens before the target has taken its predictions, the case
    // that left node-llama-cpp's draft generation loops open (found with the defaults, 16, on the demo pair over HTTP)
    const draft = { path: pair.draft, min_tokens: 1, max_tokens: 2, min_confidence: 0, threads: 1, adaptive: true };
    const config = modelConfig({ id: "tiny", path: pair.target, parallel: 1, context_size: 256, speculative: "draft", draft });
    await using drafting = await loadModelRuntime({ llama, config, mode: "draft", threads: { target: 1, draft: 1 }, keepDrafting: () => true });
    for (const prompt of ["abc", "xyz", "abd"]) {
      drafting.predictors[0]!.draftThisRun({ drafting: true });
      expect(await generate(drafting, 0, prompt, 80)).toBe(expectedGreedyText(prompt, 80, pair.options));
    }
    expect(drafting.sequences[0]!.tokenPredictions.validated).toBeGreaterThan(10);
    await using plain = await loadModelRuntime({ llama, config: tinyConfig(1), mode: "none", threads: { target: 2, draft: 1 }, keepDrafting: () => false });
    const counts = await expectLoneStream(plain, pair);
    expect(counts.aloneHere).toBeGreaterThanOrEqual(50);
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

describe("mmap", () => {
  test.each([
    ["on", true],
    ["off", false],
    // On the CPU alone, and the tiny pair fits in free memory.
    ["auto", false],
  ] as const)("Should load the target and its draft with mmap = %p and decode the forge's exact greedy text", async (setting, mapped) => {
    const pair = forged.pairs.get(0.2)!;
    const draft = modelSchema.shape.draft.unwrap().parse({ path: pair.draft });
    const config = modelConfig({ id: "tiny", path: pair.target, parallel: 1, context_size: 256, speculative: "draft", draft, mmap: setting });
    await using runtime = await loadModelRuntime({ llama, config, mode: "draft", threads: { target: 1, draft: 1 }, keepDrafting: () => false });
    expect(runtime.model.useMmap).toBe(mapped);
    expect(runtime.draftSequences[0]!.model.useMmap).toBe(mapped);
    expect(await generate(runtime, 0, "abc", 100)).toBe(expectedGreedyText("abc", 100, pair.options));
  });
});
