/**
 * Per-token overhead: greedy completions of `--tokens` tokens through HTTP /v1/completions
 * (streaming, one sequence, no draft) on the forged tiny, demo and bench models, as served: no
 * timer keeps the event loop awake. On the tiny model a token costs llama.cpp well under a
 * millisecond, so what Enclave adds per token dominates there; on bench the model does.
 *
 * With LLAMA_SERVER pointing at a llama-server build (see llama-server-peer.ts) the same requests
 * run against it on the same files and threads, alternated with Enclave's so both see the same
 * load, and the table gains the ratio.
 *
 *   bun run bench:overhead [--presets tiny,demo,bench] [--tokens 400] [--repeats 3] [--threads 2]
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
    threads: { type: "string", default: "2" },
    cache: { type: "string", default: "./.cache/forge" },
  },
});
const presets = values.presets.split(",");
const tokens = Number(values.tokens);
const repeats = Number(values.repeats);
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

interface PresetResult {
  preset: string;
  enclave: number;
  llamaServer: number | null;
  sameText: boolean | null;
  runs: Run[];
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
  const runs: Run[] = [];
  try {
    for (const [name, url] of targets) await measure(name, url);
    for (let index = 0; index < repeats; index++) {
      // Alternate which goes first so drift in machine load falls on both.
      for (const [name, url] of index % 2 === 0 ? targets : [...targets].reverse()) {
        const run = await measure(name, url);
        runs.push(run);
        console.error(`  ${preset} ${name.padEnd(12)} ${fixed(run.decodeTokensPerSecond)} tok/s, ${run.completionTokens} tokens`);
      }
    }
  } finally {
    await peer?.[Symbol.asyncDispose]();
    server.stop(true);
    await engine[Symbol.asyncDispose]();
  }
  const of = (name: Run["server"]) => runs.filter((run) => run.server === name);
  const peerRuns = of("llama-server");
  return {
    preset,
    enclave: median(of("enclave").map((run) => run.decodeTokensPerSecond)),
    llamaServer: peer == null ? null : median(peerRuns.map((run) => run.decodeTokensPerSecond)),
    sameText: peer == null ? null : peerRuns.every((run) => run.text === of("enclave")[0]?.text),
    runs,
  };
}

const results: PresetResult[] = [];
for (const preset of presets) results.push(await benchPreset(preset));
await llama.dispose();

console.table(
  results.map((result) => ({
    model: result.preset,
    "enclave tok/s (p50)": fixed(result.enclave),
    ...(peerBinary == null
      ? {}
      : {
          "llama-server tok/s (p50)": fixed(result.llamaServer ?? Number.NaN),
          "enclave / llama-server": fixed(result.enclave / (result.llamaServer ?? Number.NaN), 3),
          "same text": result.sameText ? "yes" : "no",
        }),
  })),
);
if (peerBinary == null) console.log("set LLAMA_SERVER to a llama-server binary to run it side by side");
writeResults("bench-overhead", machine, { tokens, repeats, contextSize, addon, results });
