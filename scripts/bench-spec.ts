/**
 * Speculative decoding benchmark: forges the `bench` pair (TinyLlama's shape) at several draft
 * disagreement levels and measures greedy decode speed with no draft, a draft always on, and
 * adaptive drafting, in one process, the three taking turns request by request. Prints a table
 * and writes JSON to bench-results/.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";
import { configSchema, type ModelConfig } from "../src/config/schema";
import { forgePair, resolveForgeOptions } from "../src/forge";
import { createLlamaEngine } from "../src/inference/llama-engine";
import type { GenerationRequest, SpeculativeStatus } from "../src/inference/types";
import { numberArg, scriptArgs } from "./script-args";

const values = scriptArgs("bench:spec", "bun run bench:spec [--levels 0,0.1,0.2,0.35] [--tokens 128] [--repeats 3] [--adaptive-repeats 12] [--threads 2] [--draft-threads 0]", {
  levels: { type: "string", default: "0,0.1,0.2,0.35" },
  tokens: { type: "string", default: "128" },
  repeats: { type: "string", default: "3" },
  "adaptive-repeats": { type: "string", default: "12" },
  threads: { type: "string", default: "2" },
  "draft-threads": { type: "string", default: "0" },
  cache: { type: "string", default: "./.cache/forge" },
});
const levels = values.levels.split(",").map((level) => numberArg("levels", level));
const tokens = numberArg("tokens", values.tokens);
const repeats = numberArg("repeats", values.repeats);
const adaptiveRepeats = numberArg("adaptive-repeats", values["adaptive-repeats"]);
const threads = numberArg("threads", values.threads);
const draftThreads = numberArg("draft-threads", values["draft-threads"]);

const variants = ["no draft", "draft", "adaptive"] as const;
type Variant = (typeof variants)[number];
interface Row {
  disagreement: number;
  variant: Variant;
  tokensPerSecond: number;
  speculative: SpeculativeStatus;
}

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const llama = await getLlama({ gpu: false, build: "never", skipDownload: true, maxThreads: threads, logLevel: LlamaLogLevel.error });
const rows: Row[] = [];

for (const level of levels) {
  const options = resolveForgeOptions("bench", { preset: `bench-d${Math.round(level * 100)}`, draftDisagreement: level });
  const forgeStarted = performance.now();
  const manifest = await forgePair(options, values.cache);
  console.error(`forged ${options.preset} in ${((performance.now() - forgeStarted) / 1000).toFixed(1)} s`);
  const target = join(values.cache, manifest.target.file);
  const draftPath = join(values.cache, manifest.draft.file);

  await using engines = new AsyncDisposableStack();
  const engineOf = new Map<Variant, ReturnType<typeof createLlamaEngine>>();
  for (const variant of variants) {
    const base = configSchema.parse({ models: [{ id: "bench", path: target }] }).models[0]!;
    const model: ModelConfig = {
      ...base,
      context_size: 512,
      parallel: 1,
      threads,
      speculative: variant === "no draft" ? "none" : "draft",
      draft: { path: draftPath, min_tokens: 1, max_tokens: 16, min_confidence: 0.6, threads: draftThreads, adaptive: variant === "adaptive" },
    };
    const engine = engines.use(createLlamaEngine({ config: { engine: { gpu: "cpu", max_threads: threads }, models: [model] }, logger: silent, loadLlama: async () => llama }));
    await engine.start();
    await decode(engine, 8);
    engineOf.set(variant, engine);
  }
  // The variants take turns, a request each, so a drift in this machine's speed reaches all three
  // alike (in blocks, one variant after another, it moved their ratios by ~10%). Adaptive runs
  // longer, so its average includes its learning from the first request on and the slices that
  // re-measure the losing mode: what a user gets; the others run every few of its turns.
  const every = Math.max(1, Math.floor(adaptiveRepeats / repeats));
  const totals = new Map<Variant, { tokensPerSecond: number; runs: number }>(variants.map((variant) => [variant, { tokensPerSecond: 0, runs: 0 }]));
  for (let turn = 0; turn < Math.max(adaptiveRepeats, repeats * every); turn++) {
    for (const variant of variants) {
      const total = totals.get(variant)!;
      if (variant === "adaptive" ? total.runs >= adaptiveRepeats : turn % every !== 0 || total.runs >= repeats) continue;
      total.tokensPerSecond += await decode(engineOf.get(variant)!, tokens);
      total.runs++;
    }
  }
  for (const variant of variants) {
    const { tokensPerSecond, runs } = totals.get(variant)!;
    rows.push({ disagreement: level, variant, tokensPerSecond: tokensPerSecond / runs, speculative: engineOf.get(variant)!.models()[0]!.speculative });
    console.error(`  ${variant.padEnd(8)} ${(tokensPerSecond / runs).toFixed(1)} tok/s`);
  }
}
await llama.dispose();

/** Tokens per second from the first generated token to the last, so prompt evaluation is left out. */
async function decode(engine: ReturnType<typeof createLlamaEngine>, maxTokens: number): Promise<number> {
  const request: GenerationRequest = {
    requestId: "bench",
    model: "bench",
    input: { kind: "text", prompt: "The quick brown fox" },
    sampling: { maxTokens, temperature: 0, topP: 1, stop: [], presencePenalty: 0, frequencyPenalty: 0, logitBias: {} },
    responseFormat: { type: "text" },
    topLogprobs: null,
    signal: new AbortController().signal,
    waitForModel: true,
  };
  let first = 0;
  let generated = 0;
  for await (const event of await engine.generate(request)) {
    if (event.type === "text" && first === 0) first = performance.now();
    if (event.type === "done") generated = event.usage.completionTokens;
  }
  return (generated - 1) / ((performance.now() - first) / 1000);
}

const baseline = new Map(rows.filter((row) => row.variant === "no draft").map((row) => [row.disagreement, row.tokensPerSecond]));
const table = rows.map((row) => ({
  disagreement: row.disagreement,
  variant: row.variant,
  "tok/s": row.tokensPerSecond.toFixed(1),
  "x no draft": (row.tokensPerSecond / baseline.get(row.disagreement)!).toFixed(2),
  acceptance: row.speculative.acceptance == null ? "-" : row.speculative.acceptance.toFixed(2),
  "drafting now": row.variant === "no draft" ? "-" : String(row.speculative.active),
}));
console.table(table);

mkdirSync("bench-results", { recursive: true });
const file = join("bench-results", `bench-spec-${new Date().toISOString().replaceAll(":", "-")}.json`);
writeFileSync(file, JSON.stringify({ tokens, repeats, adaptiveRepeats, threads, draftThreads, rows }, null, 2));
console.error(`wrote ${file}`);
