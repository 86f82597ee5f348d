/**
 * Per-token overhead: greedy completions of `--tokens` tokens through HTTP /v1/completions
 * (streaming, one sequence, no draft) on the forged tiny, demo and bench models, as served: no
 * timer keeps the event loop awake. On the tiny model a token costs llama.cpp well under a
 * millisecond, so what Enclave adds per token dominates there; on bench the model does.
 * First token: the time to the first streamed chunk of a two-token prompt (BOS and one
 * character), `--first-token-repeats` times, which is one decode plus whatever is added around it.
 *
 * With LLAMA_SERVER pointing at a llama-server build (see llama-server-peer.ts) the same requests
 * run against it on the same files and threads, alternated with Enclave's so both see the same
 * load, and the table gains the ratio.
 *
 *   bun run bench:overhead [--presets tiny,demo,bench] [--tokens 400] [--repeats 3] [--first-token-repeats 10] [--threads 2]
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { fixedCallerGate } from "../test/support/fixed-caller-gate";
import { createApp } from "../src/api/app";
import { createOpenAiRoutes } from "../src/api/openai/routes";
import { configSchema } from "../src/config/schema";
import { createLlamaEngine } from "../src/inference/llama-engine";
import { createLogger } from "../src/logging/logger";
import { createMetrics } from "../src/metrics/metrics-registry";
import { benchModelConfig, cpuLlama, fixed, forgedModel, machineInfo, median, printMachine, PROMPT, silentLogger, streamCompletion, writeResults } from "./bench-support";
import { addonPaths } from "./build-addon";
import { llamaServerBinary, startLlamaServer } from "./llama-server-peer";

const { values } = parseArgs({
  options: {
    presets: { type: "string", default: "tiny,demo,bench" },
    tokens: { type: "string", default: "400" },
    repeats: { type: "string", default: "3" },
    "first-token-repeats": { type: "string", default: "10" },
    threads: { type: "string", default: "2" },
    cache: { type: "string", default: "./.cache/forge" },
  },
});
const presets = values.presets.split(",");
const tokens = Number(values.tokens);
const repeats = Number(values.repeats);
const firstTokenRepeats = Number(values["first-token-repeats"]);
const threads = Number(values.threads);
const contextSize = 512;
const machine = machineInfo(threads, values.presets);
printMachine(machine);
const addon = (await Bun.file(path.join((await addonPaths()).installed, "llama-addon.node")).exists()) ? "rebuilt (persistent threadpool)" : "prebuilt";
console.log(`addon: ${addon}`);

const peerBinary = llamaServerBinary();
const llama = await cpuLlama(threads);
const config = configSchema.parse({});
const body = { model: "bench", prompt: PROMPT, max_tokens: tokens, temperature: 0 };
// One character: the forge's vocabulary has one token per character, so the prompt is BOS and this.
const firstTokenBody = { model: "bench", prompt: "a", max_tokens: 8, temperature: 0 };

interface Run {
  server: "enclave" | "llama-server";
  decodeTokensPerSecond: number;
  completionTokens: number;
  text: string;
}

async function measure(server: Run["server"], url: string): Promise<Run> {
  const result = await streamCompletion(`${url}/v1/completions`, body);
  if (result.status !== 200) throw new Error(`${server}: HTTP ${result.status}`);
  return { server, decodeTokensPerSecond: (result.completionTokens - 1) / (result.decodeMs / 1000), completionTokens: result.completionTokens, text: result.text };
}

interface FirstToken {
  server: Run["server"];
  ttftMs: number;
  promptTokens: number;
}

async function firstToken(server: Run["server"], url: string): Promise<FirstToken> {
  const result = await streamCompletion(`${url}/v1/completions`, firstTokenBody);
  if (result.status !== 200) throw new Error(`${server}: HTTP ${result.status}`);
  return { server, ttftMs: result.ttftMs, promptTokens: result.promptTokens };
}

/** Runs `measureOnce` on every target, `times` times, alternating which goes first so drift in machine load falls on both. */
async function alternate<T>(targets: [Run["server"], string][], times: number, measureOnce: (server: Run["server"], url: string) => Promise<T>): Promise<T[]> {
  for (const [name, url] of targets) await measureOnce(name, url);
  const results: T[] = [];
  for (let index = 0; index < times; index++)
    for (const [name, url] of index % 2 === 0 ? targets : [...targets].reverse()) results.push(await measureOnce(name, url));
  return results;
}

interface PresetResult {
  preset: string;
  enclave: number;
  llamaServer: number | null;
  sameText: boolean | null;
  enclaveTtftMs: number;
  llamaServerTtftMs: number | null;
  firstTokenPromptTokens: number;
  runs: Run[];
  firstTokens: FirstToken[];
}

async function benchPreset(preset: string): Promise<PresetResult> {
  const model = await forgedModel(preset, values.cache);
  const engine = createLlamaEngine({
    config: { engine: { gpu: "cpu", max_threads: threads }, models: [benchModelConfig(model, { parallel: 1, contextSize, threads })] },
    logger: silentLogger,
    loadLlama: async () => llama,
  });
  await engine.start();
  const logger = createLogger({ logging: { level: "info" } }, { write() {} });
  const metrics = createMetrics({ config, version: "bench" });
  const app = createApp({ config, engine, logger, metrics, version: "bench", storeIsOpen: () => true, routes: [createOpenAiRoutes({ engine, gate: fixedCallerGate() })] });
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, idleTimeout: 255, fetch: (request) => app.handle(request) });
  const peer = peerBinary == null ? null : await startLlamaServer(peerBinary, { model: model.target, parallel: 1, contextPerSlot: contextSize, threads });
  const targets: [Run["server"], string][] = [["enclave", `http://127.0.0.1:${server.port}`], ...(peer == null ? [] : [["llama-server", peer.url] as [Run["server"], string]])];
  let runs: Run[];
  let firstTokens: FirstToken[];
  try {
    runs = await alternate(targets, repeats, async (name, url) => {
      const run = await measure(name, url);
      console.error(`  ${preset} ${name.padEnd(12)} ${fixed(run.decodeTokensPerSecond)} tok/s, ${run.completionTokens} tokens`);
      return run;
    });
    firstTokens = await alternate(targets, firstTokenRepeats, firstToken);
  } finally {
    await peer?.[Symbol.asyncDispose]();
    server.stop(true);
    await engine[Symbol.asyncDispose]();
  }
  const of = (name: Run["server"]) => runs.filter((run) => run.server === name);
  const peerRuns = of("llama-server");
  const ttft = (name: Run["server"]) => median(firstTokens.filter((first) => first.server === name).map((first) => first.ttftMs));
  return {
    preset,
    enclave: median(of("enclave").map((run) => run.decodeTokensPerSecond)),
    llamaServer: peer == null ? null : median(peerRuns.map((run) => run.decodeTokensPerSecond)),
    sameText: peer == null ? null : peerRuns.every((run) => run.text === of("enclave")[0]?.text),
    enclaveTtftMs: ttft("enclave"),
    llamaServerTtftMs: peer == null ? null : ttft("llama-server"),
    firstTokenPromptTokens: firstTokens.find((first) => first.server === "enclave")?.promptTokens ?? Number.NaN,
    runs,
    firstTokens,
  };
}

const results: PresetResult[] = [];
for (const preset of presets) results.push(await benchPreset(preset));
await llama.dispose();

console.table(
  results.map((result) => ({
    model: result.preset,
    "enclave tok/s (p50)": fixed(result.enclave),
    "enclave TTFT ms (p50)": fixed(result.enclaveTtftMs),
    ...(peerBinary == null
      ? {}
      : {
          "llama-server tok/s (p50)": fixed(result.llamaServer ?? Number.NaN),
          "enclave / llama-server": fixed(result.enclave / (result.llamaServer ?? Number.NaN), 3),
          "same text": result.sameText ? "yes" : "no",
          "llama-server TTFT ms (p50)": fixed(result.llamaServerTtftMs ?? Number.NaN),
          "TTFT difference ms": fixed(result.enclaveTtftMs - (result.llamaServerTtftMs ?? Number.NaN)),
        }),
  })),
);
console.log(`first token: a ${results[0]?.firstTokenPromptTokens ?? "?"}-token prompt, ${firstTokenRepeats} times per server`);
if (peerBinary == null) console.log("set LLAMA_SERVER to a llama-server binary to run it side by side");
writeResults("bench-overhead", machine, { tokens, repeats, firstTokenRepeats, contextSize, addon, results });
