/**
 * HTTP overhead: the same greedy generation through the in-process engine and through the HTTP
 * API (streaming SSE over loopback, with the app shell, request log, metrics and OpenAI
 * translation in the path), alternated so both see the same machine load. Reports the tokens/s
 * ratio (goal >= 0.98) and the TTFT the HTTP path adds (goal <= 5 ms).
 *
 * Bun's event loop wakes late for node-llama-cpp's per-token callbacks when nothing else is
 * scheduled, which slows an idle in-process loop far more than any HTTP cost (2-3x on the demo
 * model); a 1 ms timer keeps the loop awake during both paths so they are compared alike.
 * --idle-loop measures without it.
 */
import { fixedCallerGate } from "../test/support/fixed-caller-gate";
import { createApp } from "../src/api/app";
import { createOpenAiRoutes } from "../src/api/openai/routes";
import { createLlamaEngine } from "../src/inference/llama-engine";
import { createLogger } from "../src/logging/logger";
import { createMetrics } from "../src/metrics/metrics-registry";
import { createMetricsRoutes } from "../src/metrics/metrics-routes";
import { configSchema } from "../src/config/schema";
import { benchModelConfig, cpuLlama, fixed, forgedModel, machineInfo, median, printMachine, PROMPT, silentLogger, streamCompletion, textRequest, writeResults } from "./bench-support";
import { numberArg, scriptArgs } from "./script-args";

const values = scriptArgs("bench:api", "bun run bench:api [--preset bench|demo] [--tokens 128] [--repeats 5] [--threads 2] [--idle-loop]", {
  preset: { type: "string", default: "bench" },
  tokens: { type: "string", default: "128" },
  repeats: { type: "string", default: "5" },
  threads: { type: "string", default: "2" },
  cache: { type: "string", default: "./.cache/forge" },
  "idle-loop": { type: "boolean", default: false },
});
const tokens = numberArg("tokens", values.tokens);
const repeats = numberArg("repeats", values.repeats);
const threads = numberArg("threads", values.threads);
const machine = machineInfo(threads, values.preset);
printMachine(machine);

const model = await forgedModel(values.preset, values.cache);
const llama = await cpuLlama(threads);
const config = configSchema.parse({});
const metrics = createMetrics({ config, version: "bench" });
const raw = createLlamaEngine({
  config: { engine: { gpu: "cpu", max_threads: threads }, models: [benchModelConfig(model, { parallel: 1, contextSize: 512, threads })] },
  logger: silentLogger,
  loadLlama: async () => llama,
});
const engine = metrics.instrument(raw);
await engine.start();

// The served stack, minus auth and limits (bench:limits measures those): request log at info into a sink.
const logger = createLogger({ logging: { level: "info" } }, { write() {} });
const app = createApp({ config, engine, logger, metrics, version: "bench", storeIsOpen: () => true, routes: [createOpenAiRoutes({ engine, gate: fixedCallerGate() }), createMetricsRoutes({ config, metrics })] });
const server = Bun.serve({ hostname: "127.0.0.1", port: 0, idleTimeout: 255, fetch: (request) => app.handle(request) });
const url = `http://127.0.0.1:${server.port}/v1/completions`;

interface Run {
  path: "engine" | "http";
  ttftMs: number;
  decodeTokensPerSecond: number;
  e2eTokensPerSecond: number;
  completionTokens: number;
}

/** In process: the raw engine, as the HTTP layer calls it. */
async function viaEngine(): Promise<Run> {
  const started = performance.now();
  let first = 0;
  let last = 0;
  let completionTokens = 0;
  for await (const event of await raw.generate(textRequest(tokens))) {
    if (event.type === "text") {
      last = performance.now();
      first ||= last;
    } else if (event.type === "done") completionTokens = event.usage.completionTokens;
  }
  const total = performance.now() - started;
  return { path: "engine", ttftMs: first - started, decodeTokensPerSecond: (completionTokens - 1) / ((last - first) / 1000), e2eTokensPerSecond: completionTokens / (total / 1000), completionTokens };
}

async function viaHttp(): Promise<Run> {
  const result = await streamCompletion(url, { model: "bench", prompt: PROMPT, max_tokens: tokens, temperature: 0 });
  if (result.status !== 200) throw new Error(`HTTP ${result.status}`);
  return {
    path: "http",
    ttftMs: result.ttftMs,
    decodeTokensPerSecond: (result.completionTokens - 1) / (result.decodeMs / 1000),
    e2eTokensPerSecond: result.completionTokens / (result.totalMs / 1000),
    completionTokens: result.completionTokens,
  };
}

const awake = values["idle-loop"] ? null : setInterval(() => {}, 1);
await viaEngine();
await viaHttp();
const runs: Run[] = [];
for (let index = 0; index < repeats; index++) {
  // Alternate which goes first so drift in machine load falls on both.
  const pair = index % 2 === 0 ? [viaEngine, viaHttp] : [viaHttp, viaEngine];
  for (const run of pair) {
    const result = await run();
    runs.push(result);
    console.error(`  ${result.path.padEnd(6)} ttft ${fixed(result.ttftMs, 2)} ms, ${fixed(result.decodeTokensPerSecond)} tok/s decode, ${result.completionTokens} tokens`);
  }
}
if (awake != null) clearInterval(awake);
server.stop(true);
await engine[Symbol.asyncDispose]();
await llama.dispose();

const summary = (path: Run["path"]) => {
  const of = runs.filter((run) => run.path === path);
  return {
    ttftMs: median(of.map((run) => run.ttftMs)),
    decodeTokensPerSecond: median(of.map((run) => run.decodeTokensPerSecond)),
    e2eTokensPerSecond: median(of.map((run) => run.e2eTokensPerSecond)),
  };
};
const direct = summary("engine");
const http = summary("http");
const result = {
  tokens,
  repeats,
  eventLoop: values["idle-loop"] ? "idle" : "kept awake by a 1 ms timer",
  engine: direct,
  http,
  decodeRatio: http.decodeTokensPerSecond / direct.decodeTokensPerSecond,
  e2eRatio: http.e2eTokensPerSecond / direct.e2eTokensPerSecond,
  addedTtftMs: http.ttftMs - direct.ttftMs,
};
console.table([
  { path: "in-process engine", "TTFT ms (p50)": fixed(direct.ttftMs, 2), "decode tok/s (p50)": fixed(direct.decodeTokensPerSecond), "end-to-end tok/s (p50)": fixed(direct.e2eTokensPerSecond) },
  { path: "HTTP streaming", "TTFT ms (p50)": fixed(http.ttftMs, 2), "decode tok/s (p50)": fixed(http.decodeTokensPerSecond), "end-to-end tok/s (p50)": fixed(http.e2eTokensPerSecond) },
]);
console.log(
  `HTTP / engine: decode tok/s ratio ${fixed(result.decodeRatio, 3)} (goal >= 0.98), end-to-end ratio ${fixed(result.e2eRatio, 3)}; added TTFT ${fixed(result.addedTtftMs, 2)} ms (goal <= 5 ms)`,
);
writeResults("bench-api", machine, { ...result, runs });
