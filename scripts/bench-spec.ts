/**
 * Speculative decoding benchmark: forges the `bench` pair (TinyLlama's shape) at several draft
 * disagreement levels and measures greedy decode speed with no draft, a draft always on, and
 * adaptive drafting, in one process. Each turn runs the three back to back, in an order that
 * rotates, and the table gives the median over turns of each turn's ratios: this 2-core machine's
 * speed swings by a quarter between requests seconds apart, and a ratio of means over different
 * requests moved by as much. Adaptive drafting's learning from the first request on is in its
 * turns, as a user gets it. Prints a table and writes JSON to bench-results/.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";
import { configSchema, type ModelConfig } from "../src/config/schema";
import { forgePair, resolveForgeOptions } from "../src/forge";
import { createLlamaEngine } from "../src/inference/llama-engine";
import type { GenerationRequest, SpeculativeStatus } from "../src/inference/types";
import { fixed, median } from "./bench-support";
import { numberArg, scriptArgs } from "./script-args";

const values = scriptArgs("bench:spec", "bun run bench:spec [--levels 0,0.1,0.2,0.35] [--tokens 128] [--turns 10] [--threads 2] [--draft-threads 0]", {
  levels: { type: "string", default: "0,0.1,0.2,0.35" },
  tokens: { type: "string", default: "128" },
  turns: { type: "string", default: "10" },
  threads: { type: "string", default: "2" },
  "draft-threads": { type: "string", default: "0" },
  cache: { type: "string", default: "./.cache/forge" },
});
const levels = values.levels.split(",").map((level) => numberArg("levels", level));
const tokens = numberArg("tokens", values.tokens);
const turns = numberArg("turns", values.turns, 1);
const threads = numberArg("threads", values.threads);
const draftThreads = numberArg("draft-threads", values["draft-threads"]);

const variants = ["no draft", "draft", "adaptive"] as const;
type Variant = (typeof variants)[number];
interface Row {
  disagreement: number;
  variant: Variant;
  /** Mean over the turns. */
  tokensPerSecond: number;
  /** Each turn's tokens/s over the same turn's no-draft tokens/s. */
  perTurnNoDraftRatios: number[];
  /** Each turn's tokens/s over the same turn's forced-draft tokens/s. */
  perTurnDraftRatios: number[];
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
  const speeds = new Map<Variant, number[]>(variants.map((variant) => [variant, []]));
  for (let turn = 0; turn < turns; turn++) {
    for (let index = 0; index < variants.length; index++) {
      const variant = variants[(turn + index) % variants.length]!;
      speeds.get(variant)!.push(await decode(engineOf.get(variant)!, tokens));
    }
  }
  const ratios = (variant: Variant, over: Variant) => speeds.get(variant)!.map((speed, turn) => speed / speeds.get(over)![turn]!);
  for (const variant of variants) {
    const own = speeds.get(variant)!;
    const row: Row = {
      disagreement: level,
      variant,
      tokensPerSecond: own.reduce((sum, speed) => sum + speed, 0) / own.length,
      perTurnNoDraftRatios: ratios(variant, "no draft"),
      perTurnDraftRatios: ratios(variant, "draft"),
      speculative: engineOf.get(variant)!.models()[0]!.speculative,
    };
    rows.push(row);
    console.error(`  ${variant.padEnd(8)} ${row.tokensPerSecond.toFixed(1)} tok/s, ${fixed(median(row.perTurnNoDraftRatios), 2)}x no draft`);
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

const spread = (ratios: number[]) => `${fixed(median(ratios), 2)} (${fixed(Math.min(...ratios), 2)}-${fixed(Math.max(...ratios), 2)})`;
const table = rows.map((row) => ({
  disagreement: row.disagreement,
  variant: row.variant,
  "tok/s": row.tokensPerSecond.toFixed(1),
  "x no draft (range)": row.variant === "no draft" ? "1" : spread(row.perTurnNoDraftRatios),
  "x draft (range)": row.variant === "adaptive" ? spread(row.perTurnDraftRatios) : "-",
  acceptance: row.speculative.acceptance == null ? "-" : row.speculative.acceptance.toFixed(2),
  "drafting now": row.variant === "no draft" ? "-" : String(row.speculative.active),
}));
console.table(table);
console.error(`${turns} turns of the three variants per level; a ratio is the median of the turns' ratios, its range beside it`);

mkdirSync("bench-results", { recursive: true });
const file = join("bench-results", `bench-spec-${new Date().toISOString().replaceAll(":", "-")}.json`);
writeFileSync(file, JSON.stringify({ tokens, turns, threads, draftThreads, rows }, null, 2));
console.error(`wrote ${file}`);
