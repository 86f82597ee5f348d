import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, spyOn, test } from "bun:test";
import { getLlama, LlamaContext, type Llama, type Token } from "node-llama-cpp";
import { expectedGreedyText } from "../../../src/forge";
import { loadModelRuntime, type ModelRuntime } from "../../../src/inference/model-runtime";
import { complete, forgeTinyPairs, internals, interruptEveryRun, modelConfig } from "./tiny-pair";

// A batch's decode step that holds a token of every generating sequence runs ahead as a lone sequence does
// (lone-runs.test.ts): the next steps decode at once, each sequence's token sampled from its last, and the tokens a
// generation never asks for are erased. The steps run on the JavaScript thread where the CPU computes them on every
// core, and in one async work of the addon (decodeRun) elsewhere (a GPU, or a CPU with cores to spare). These hold such
// runs, both ways, to what one step per dispatch gives: each sequence's text, its tokens, and the tokens left in it.

let forged: Awaited<ReturnType<typeof forgeTinyPairs>>;
// Steps decode on the JavaScript thread only with a thread per core: a Llama without the tests' thread limit.
let unlimited: Llama;

beforeAll(async () => {
  forged = await forgeTinyPairs([0.2]);
  unlimited = await getLlama({ gpu: false, build: "never", skipDownload: true, maxThreads: 0, logLevel: "error" as never });
});

afterAll(() => forged?.[Symbol.dispose]());

const pair = () => forged.pairs.get(0.2)!;
const tinyRuntime = (parallel = 2) =>
  loadModelRuntime({
    llama: unlimited,
    config: modelConfig({ id: "tiny", path: pair().target, parallel, context_size: 256, speculative: "none" }),
    mode: "none",
    threads: { target: unlimited.cpuMathCores, draft: 1 },
    keepDrafting: () => false,
  });

/**
 * Where the runs decode: on the JavaScript thread, or in async works, forced here by a limit of 0 for steps on the
 * JavaScript thread; each with its own run length and the method that makes its runs.
 */
const places = [
  { place: "on the JavaScript thread", runLimit: "batchRunMs" as RunLimit, runs: "_runBatchAhead", inWorker: false },
  { place: "in async works", runLimit: "workerRunMs" as RunLimit, runs: "_runBatchAheadInWorker", inWorker: true },
];
type RunLimit = "batchRunMs" | "workerRunMs";

let place = places[0]!;

/** Sets the runs' length limit for one test; 0 decodes one step per dispatch. */
function batchRunMs(ms: number): Disposable {
  const limit = place.runLimit;
  const before = LlamaContext[limit];
  LlamaContext[limit] = ms;
  return { [Symbol.dispose]: () => void (LlamaContext[limit] = before) };
}

/** Each dispatch's run: the steps it decoded after its own (0 where it made no run), in `extraSteps()`. */
function countBatchRuns() {
  const spy = spyOn(internals(LlamaContext.prototype), place.runs);
  return Object.assign(spy, { extraSteps: () => Promise.all(spy.mock.results.map(({ value }) => value as number | Promise<number>)) });
}

type CompletionOptions = Parameters<typeof complete>[2];

/** Two generations started together, one per slot, after a warm-up pair that times the steps. */
async function together(runtime: ModelRuntime, generations: [string, CompletionOptions][]) {
  await Promise.all(["xyz", "abd"].map((prompt, slot) => complete(runtime.sequences[slot]!, prompt, { maxTokens: 30 })));
  return Promise.all(generations.map(([prompt, options], slot) => complete(runtime.sequences[slot]!, prompt, options)));
}

/** The same generations with runs and one step per dispatch, each on a fresh runtime. */
async function bothWays(generations: [string, CompletionOptions][]) {
  using counts = countBatchRuns();
  let runs;
  {
    await using runtime = await tinyRuntime();
    runs = await together(runtime, generations);
  }
  const extraSteps = await counts.extraSteps();
  using _single = batchRunMs(0);
  await using runtime = await tinyRuntime();
  return { runs, single: await together(runtime, generations), extraSteps };
}

describe.each(places)("a batch's runs $place", (where) => {
  let before = 0;
  beforeEach(() => {
    place = where;
    before = LlamaContext.decodeBatchOnJsThreadBelowMs;
    if (where.inWorker) LlamaContext.decodeBatchOnJsThreadBelowMs = 0;
  });
  afterEach(() => {
    place = places[0]!;
    LlamaContext.decodeBatchOnJsThreadBelowMs = before;
  });

  test("Should decode concurrent streams' steps in runs - each stream's exact greedy text, and the same tokens left in each sequence as one step per dispatch", async () => {
    const { runs, single, extraSteps } = await bothWays([
      ["abc", { maxTokens: 150 }],
      ["hello there", { maxTokens: 97 }],
    ]);
    expect(runs.map(({ text }) => text)).toEqual([expectedGreedyText("abc", 150, pair().options), expectedGreedyText("hello there", 97, pair().options)]);
    expect(runs).toEqual(single);
    expect(Math.max(...extraSteps)).toBeGreaterThan(1);
  });

  test("Should decode one step per dispatch with the run limit at 0 - batchRunMs on the JavaScript thread, workerRunMs in async works", async () => {
    using _single = batchRunMs(0);
    using counts = countBatchRuns();
    await using runtime = await tinyRuntime();
    await together(runtime, [
      ["abc", { maxTokens: 100 }],
      ["xyz", { maxTokens: 100 }],
    ]);
    expect((await counts.extraSteps()).length).toBeGreaterThan(50);
    expect((await counts.extraSteps()).every((steps) => steps === 0)).toBe(true);
  });

  test("Should end a run where it is interrupted - each stream's exact text, in a step per dispatch on the JavaScript thread and a step per async work's run", async () => {
    using interrupted = interruptEveryRun(where.inWorker);
    using counts = countBatchRuns();
    await using runtime = await tinyRuntime();
    const texts = await together(runtime, [
      ["abc", { maxTokens: 100 }],
      ["xyz", { maxTokens: 100 }],
    ]);
    expect(texts.map(({ text }) => text)).toEqual([expectedGreedyText("abc", 100, pair().options), expectedGreedyText("xyz", 100, pair().options)]);
    expect(interrupted.interrupts).toBeGreaterThan(50);
    // a run in an async work decodes its first step before it can see the interrupt
    expect((await counts.extraSteps()).every((steps) => steps <= (where.inWorker ? 1 : 0))).toBe(true);
  });

  if (where.inWorker) {
    test("Should start each run as the last one ends, before the generations take its tokens - they take what it decoded: exact texts, the same tokens left as without, in fewer dispatches", async () => {
      const generations: [string, CompletionOptions][] = [
        ["abc", { maxTokens: 150 }],
        ["hello there", { maxTokens: 97 }],
      ];
      const byWay = async (followUps: boolean) => {
        const before = LlamaContext.workerFollowUps;
        LlamaContext.workerFollowUps = followUps;
        using counts = countBatchRuns();
        using settles = spyOn(internals(LlamaContext.prototype), "_settleFollowUp");
        try {
          await using runtime = await tinyRuntime();
          const texts = await together(runtime, generations);
          const chained = (await Promise.all(settles.mock.results.map(({ value }) => value as Promise<boolean>))).filter(Boolean).length;
          return { texts, dispatches: counts.mock.calls.length, chained };
        } finally {
          LlamaContext.workerFollowUps = before;
        }
      };
      const followed = await byWay(true);
      const without = await byWay(false);
      expect(followed.texts.map(({ text }) => text)).toEqual([expectedGreedyText("abc", 150, pair().options), expectedGreedyText("hello there", 97, pair().options)]);
      expect(followed.texts).toEqual(without.texts);
      // a follow-up that goes on was answered: the generations asked for the very tokens it started from
      expect(followed.chained).toBeGreaterThan(2);
      expect(without.chained).toBe(0);
      expect(followed.dispatches).toBeLessThan(without.dispatches);
    });

    test("Should let a caller waiting for the context lock in between a chain's runs - one that asks after a run ended, with none in flight to interrupt, is through long before the streams end", async () => {
      await using runtime = await tinyRuntime(3);
      await together(runtime, []);
      let given = 0;
      let erased: Promise<number> | undefined;
      const prototype = internals(LlamaContext.prototype);
      const settle = prototype._settleFollowUp!;
      // an erase on the idle sequence, asked for once a follow-up has ended and before it is settled
      prototype._settleFollowUp = async function (this: { _followUp?: { tokens: Promise<unknown> } }, ...args: unknown[]) {
        if (given >= 30 && erased == null) {
          await this._followUp?.tokens;
          erased = runtime.sequences[2]!.eraseContextTokenRanges([]).then(() => given);
        }
        return settle.apply(this, args);
      };
      try {
        const onToken = (tokens: Token[]) => void (given += tokens.length);
        const texts = await Promise.all([complete(runtime.sequences[0]!, "abc", { maxTokens: 150, onToken }), complete(runtime.sequences[1]!, "hello there", { maxTokens: 150 })]);
        expect(texts.map(({ text }) => text)).toEqual([expectedGreedyText("abc", 150, pair().options), expectedGreedyText("hello there", 150, pair().options)]);
      } finally {
        prototype._settleFollowUp = settle;
      }
      // the settled run's tokens, then at most one dispatch's step and run before the erase has the lock
      expect(await erased).toBeLessThan(30 + 2 * (LlamaContext.loneRunMaxTokens + 1));
    });

    test("Should keep each stream's exact text when a run in an async work fails - the step before it stands, and the streams go on a step per dispatch", async () => {
      const prototype = internals(LlamaContext.prototype);
      const original = prototype._decodeRunInWorker!;
      // a batch's runs fail; a lone sequence's run is its decode, whose failure is the generation's
      prototype._decodeRunInWorker = function (this: unknown, ...args: unknown[]) {
        return (args[0] as unknown[]).length > 1 ? Promise.reject(new Error("the run failed")) : original.apply(this, args);
      };
      try {
        await using runtime = await tinyRuntime();
        const texts = await together(runtime, [
          ["abc", { maxTokens: 100 }],
          ["xyz", { maxTokens: 80 }],
        ]);
        expect(texts.map(({ text }) => text)).toEqual([expectedGreedyText("abc", 100, pair().options), expectedGreedyText("xyz", 80, pair().options)]);
      } finally {
        prototype._decodeRunInWorker = original;
      }
    });
  }

  test("Should grow runs no faster than the generations - a request that arrives with others joins them before runs grow", async () => {
    await using runtime = await tinyRuntime();
    await together(runtime, [
      ["xyz", { maxTokens: 20 }],
      ["abd", { maxTokens: 20 }],
    ]);
    using counts = countBatchRuns();
    await Promise.all([complete(runtime.sequences[0]!, "abc", { maxTokens: 80 }), complete(runtime.sequences[1]!, "hello", { maxTokens: 80 })]);
    // A run decodes 1 + extra steps; the tokens given before it are the steps of the runs before.
    let given = 1;
    for (const extra of await counts.extraSteps()) {
      expect(1 + extra).toBeLessThanOrEqual(given);
      given += 1 + extra;
    }
  });

  test("Should erase a run's tokens past one stream's stop string - both texts and the tokens left in each sequence as one step per dispatch", async () => {
    const stop = expectedGreedyText("abc", 120, pair().options).slice(60, 63);
    const { runs, single } = await bothWays([
      ["abc", { maxTokens: 120, customStopTriggers: [stop] }],
      ["hello there", { maxTokens: 120 }],
    ]);
    expect(runs[0]!.stopReason).toBe("customStopTrigger");
    expect(runs[1]!.text).toBe(expectedGreedyText("hello there", 120, pair().options));
    expect(runs).toEqual(single);
  });

  test("Should fill the context in runs as one step per dispatch does - a generation of all the room left, as Enclave plans it, gives the same text and tokens", async () => {
    const prompts = ["abc", "hello there"];
    // Enclave's plan: max_tokens at most the context (256 per sequence) less the prompt, BOS included; no context shift
    let rooms: number[];
    {
      await using probe = await tinyRuntime(1);
      rooms = prompts.map((prompt) => 256 - 1 - probe.model.tokenize(prompt, false, "trimLeadingSpace").length);
    }
    const { runs, single, extraSteps } = await bothWays(prompts.map((prompt, slot) => [prompt, { maxTokens: rooms[slot]!, disableContextShift: true }]));
    expect(runs).toEqual(single);
    expect(runs.map(({ text }) => text)).toEqual(prompts.map((prompt, slot) => expectedGreedyText(prompt, rooms[slot]!, pair().options)));
    expect(Math.max(...extraSteps)).toBeGreaterThan(1);
  }, 20_000);

  test("Should sample the same tokens in runs at a temperature - each sequence's from its last, as one step per dispatch does", async () => {
    const { runs, single } = await bothWays([
      ["abc", { maxTokens: 100, temperature: 0.9, seed: 7 }],
      ["hello there", { maxTokens: 100, temperature: 0.7, seed: 11 }],
    ]);
    expect(runs).toEqual(single);
  });

  test("Should erase a run's tokens past an abort - the aborted sequence keeps what was given, the other's text is exact, and the next generation is exact", async () => {
    await using runtime = await tinyRuntime();
    await together(runtime, [
      ["xyz", { maxTokens: 20 }],
      ["abd", { maxTokens: 20 }],
    ]);
    const abort = new AbortController();
    let given = 0;
    const [aborted, other] = await Promise.all([
      complete(runtime.sequences[0]!, "abc", {
        maxTokens: 150,
        signal: abort.signal,
        stopOnAbortSignal: true,
        onToken: (tokens) => {
          given += tokens.length;
          if (given >= 45) abort.abort();
        },
      }),
      complete(runtime.sequences[1]!, "hello there", { maxTokens: 120 }),
    ]);
    expect(aborted.stopReason).toBe("abort");
    const prompt = runtime.model.tokenize("abc", false, "trimLeadingSpace");
    // BOS, the prompt, and every token given but the last (sampled, not decoded)
    expect(aborted.contextTokens.length).toBe(1 + prompt.length + given - 1);
    expect(other.text).toBe(expectedGreedyText("hello there", 120, pair().options));
    expect((await complete(runtime.sequences[0]!, "hello", { maxTokens: 60 })).text).toBe(expectedGreedyText("hello", 60, pair().options));
  });

  test("Should let a stream that starts during others' runs join them - every text exact", async () => {
    await using runtime = await tinyRuntime(3);
    await together(runtime, [
      ["xyz", { maxTokens: 20 }],
      ["abd", { maxTokens: 20 }],
    ]);
    let started!: () => void;
    const runningAlready = new Promise<void>((resolve) => (started = resolve));
    let given = 0;
    const texts = await Promise.all([
      complete(runtime.sequences[0]!, "abc", { maxTokens: 150, onToken: (tokens) => void ((given += tokens.length) >= 40 && started()) }),
      complete(runtime.sequences[1]!, "hello there", { maxTokens: 150 }),
      runningAlready.then(() => complete(runtime.sequences[2]!, "xyz", { maxTokens: 60 })),
    ]);
    expect(texts.map(({ text }) => text)).toEqual([
      expectedGreedyText("abc", 150, pair().options),
      expectedGreedyText("hello there", 150, pair().options),
      expectedGreedyText("xyz", 60, pair().options),
    ]);
  });
});

describe("a batch's runs with a draft paused", () => {
  // Drafting stops while other sequences generate: the speculative loop then decodes its lone token in the batch.
  const draftRuntime = () => {
    const draft = { path: pair().draft, min_tokens: 1, max_tokens: 8, min_confidence: 0, threads: 1, adaptive: true };
    const config = modelConfig({ id: "tiny", path: pair().target, parallel: 2, context_size: 256, speculative: "draft", draft });
    return loadModelRuntime({ llama: unlimited, config, mode: "draft", threads: { target: unlimited.cpuMathCores, draft: 1 }, keepDrafting: () => false });
  };
  const paused = (runtime: ModelRuntime) => runtime.predictors.forEach((predictor) => predictor!.draftThisRun({ drafting: false }));

  test("Should sample the steps in the batch's decode and run ahead - each stream's exact greedy text", async () => {
    await using runtime = await draftRuntime();
    paused(runtime);
    await together(runtime, [
      ["xyz", { maxTokens: 20 }],
      ["abd", { maxTokens: 20 }],
    ]);
    paused(runtime);
    using counts = countBatchRuns();
    const internal = runtime.context as unknown as { _ctx: Record<string, unknown> };
    const addon = internal._ctx;
    let sampledApart = 0;
    internal._ctx = new Proxy(addon, {
      get(target, property) {
        const value = target[property as string];
        if (typeof value !== "function") return value;
        if (property === "sampleToken") sampledApart++;
        return value.bind(target);
      },
    });
    const texts = await Promise.all([complete(runtime.sequences[0]!, "abc", { maxTokens: 120 }), complete(runtime.sequences[1]!, "hello there", { maxTokens: 90 })]);
    expect(texts.map(({ text }) => text)).toEqual([expectedGreedyText("abc", 120, pair().options), expectedGreedyText("hello there", 90, pair().options)]);
    expect(Math.max(...(await counts.extraSteps()))).toBeGreaterThan(1);
    // the prompts' first tokens only
    expect(sampledApart).toBeLessThanOrEqual(2);
  });
});
