/**
 * Per-token overhead: greedy completions of `--tokens` tokens through HTTP /v1/completions
 * (streaming, one sequence, no draft) on the forged tiny, demo and bench models, served by
 * `enclave serve` in its own process as a user runs it (see enclave-serve-process.ts). On the tiny model a token costs llama.cpp well under a
 * millisecond, so what Enclave adds per token dominates there; on bench the model does.
 * First token: the time to the first streamed chunk of a two-token prompt (BOS and one
 * character), `--first-token-repeats` times, which is one decode plus whatever is added around it,
 * after `--warmup` unmeasured requests to each server: Enclave's request path (key check, limits,
 * retention policy, routing) runs as JavaScript, which the JIT compiles only once it has run many
 * times, as it has on any server in use; cold, the first few dozen take ~3 ms longer.
 * First tokens are timed 30 ms apart and after 1 s idle: an idle machine's threads sleep, and
 * waking them is part of a first token (a few ms on this VM for Enclave, whose decode crosses
 * more threads than llama-server's).
 *
 * With LLAMA_SERVER pointing at a llama-server build (see llama-server-peer.ts) the same requests
 * run against it on the same files and threads, alternated with Enclave's so both see the same
 * load, and the table gains the ratio.
 *
 * `--flash-attention` sets the model's `flash_attention` and llama-server's `-fa` alike; `--mmap` the
 * model's `mmap` and, as Enclave resolves it, llama-server's `--no-mmap`; `--gpu cuda` puts every
 * layer on the GPU on both sides, llama-server on the CUDA libraries of Enclave's CUDA addon (a CPU
 * build of llama-server then computes on the GPU: ggml loads its CUDA backend at run time).
 */
import path from "node:path";
import { modelSchema } from "../src/config/schema";
import { fixed, forgedModel, machineInfo, median, printMachine, PROMPT, streamCompletion, writeResults } from "./bench-support";
import { addonPaths } from "./build-addon";
import { startEnclaveServe } from "./enclave-serve-process";
import { llamaServerBinary, startLlamaServer } from "./llama-server-peer";
import { choiceArg, numberArg, scriptArgs } from "./script-args";

const values = scriptArgs("bench:overhead", "bun run bench:overhead [--presets tiny,demo,bench] [--tokens 400] [--repeats 3] [--first-token-repeats 10] [--warmup 100] [--threads 2] [--flash-attention auto|on|off] [--mmap auto|on|off] [--gpu cpu|cuda]", {
  presets: { type: "string", default: "tiny,demo,bench" },
  tokens: { type: "string", default: "400" },
  repeats: { type: "string", default: "3" },
  "first-token-repeats": { type: "string", default: "10" },
  warmup: { type: "string", default: "100" },
  threads: { type: "string", default: "2" },
  "flash-attention": { type: "string", default: "auto" },
  mmap: { type: "string", default: "auto" },
  gpu: { type: "string", default: "cpu" },
  cache: { type: "string", default: "./.cache/forge" },
});
const presets = values.presets.split(",");
const tokens = numberArg("tokens", values.tokens);
const warmup = numberArg("warmup", values.warmup);
const repeats = numberArg("repeats", values.repeats);
const firstTokenRepeats = numberArg("first-token-repeats", values["first-token-repeats"]);
const threads = numberArg("threads", values.threads);
const contextSize = 512;
/** Before each decode run: a server's compute threads spin a while after its last token, and on two cores they slowed whichever server ran next (by up to half on tiny). */
const decodePauseMs = 300;
/** First tokens are timed twice: 30 ms apart, as an agent's calls follow each other, and after 1 s idle, as a person's do. */
const firstTokenPauses = { busy: 30, idle: 1_000 } as const;
const flashAttention = modelSchema.shape.flash_attention.parse(values["flash-attention"]);
const mmap = modelSchema.shape.mmap.parse(values.mmap);
/** "cuda": every layer on the GPU on both sides (Enclave's `gpu_layers = "max"`, llama-server's `-ngl 999`), on the same CUDA libraries. */
const gpu = choiceArg("gpu", values.gpu, ["cpu", "cuda"]);
const machine = machineInfo(threads, values.presets);
printMachine(machine);
const addon = (await Bun.file(path.join((await addonPaths()).installed, "llama-addon.node")).exists()) ? "rebuilt (persistent threadpool)" : "prebuilt";
console.log(`addon: ${addon}`);

const peerBinary = llamaServerBinary();
const body = { model: "bench", prompt: PROMPT, max_tokens: tokens, temperature: 0 };
// One character: the forge's vocabulary has one token per character, so the prompt is BOS and this.
const firstTokenBody = { model: "bench", prompt: "a", max_tokens: 8, temperature: 0 };

interface Run {
  server: "enclave" | "llama-server";
  decodeTokensPerSecond: number;
  completionTokens: number;
  text: string;
}

interface Target {
  server: Run["server"];
  url: string;
  headers: Record<string, string>;
}

async function measure({ server, url, headers }: Target): Promise<Run> {
  const result = await streamCompletion(`${url}/v1/completions`, body, headers);
  if (result.status !== 200) throw new Error(`${server}: HTTP ${result.status}`);
  return { server, decodeTokensPerSecond: (result.completionTokens - 1) / (result.decodeMs / 1000), completionTokens: result.completionTokens, text: result.text };
}

interface FirstToken {
  server: Run["server"];
  ttftMs: number;
  promptTokens: number;
}

async function firstToken({ server, url, headers }: Target): Promise<FirstToken> {
  const result = await streamCompletion(`${url}/v1/completions`, firstTokenBody, headers);
  if (result.status !== 200) throw new Error(`${server}: HTTP ${result.status}`);
  return { server, ttftMs: result.ttftMs, promptTokens: result.promptTokens };
}

/** Runs `measureOnce` on every target, `times` times, each after `pauseMs`, alternating which goes first so drift in machine load falls on both. */
async function alternate<T>(targets: Target[], times: number, pauseMs: number, measureOnce: (target: Target) => Promise<T>): Promise<T[]> {
  const afterPause = async (target: Target) => {
    await Bun.sleep(pauseMs);
    return measureOnce(target);
  };
  for (const target of targets) await afterPause(target);
  const results: T[] = [];
  for (let index = 0; index < times; index++)
    for (const target of index % 2 === 0 ? targets : [...targets].reverse()) results.push(await afterPause(target));
  return results;
}

/**
 * Runs `measureOnce` `times` times per target, `pauseMs` apart, in blocks of half of them per target (A, B, B, A), each
 * block after a second's rest: alternating request by request, a request 30 ms after the other server's ran beside its
 * still spinning threads (on bench a 2-token prompt then took twice as long).
 */
async function inBlocks<T>(targets: Target[], times: number, pauseMs: number, measureOnce: (target: Target) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (const order of [targets, [...targets].reverse()])
    for (const target of order) {
      await Bun.sleep(1_000);
      for (let index = 0; index < Math.ceil(times / 2); index++) {
        await Bun.sleep(pauseMs);
        results.push(await measureOnce(target));
      }
    }
  return results;
}

interface PresetResult {
  preset: string;
  enclave: number;
  llamaServer: number | null;
  sameText: boolean | null;
  /** Median TTFT per server and pause. */
  ttftMs: Record<keyof typeof firstTokenPauses, { enclave: number; llamaServer: number | null }>;
  firstTokenPromptTokens: number;
  runs: Run[];
  firstTokens: Record<keyof typeof firstTokenPauses, FirstToken[]>;
}

async function benchPreset(preset: string): Promise<PresetResult> {
  const model = await forgedModel(preset, values.cache);
  const enclave = await startEnclaveServe({
    threads,
    models: [
      'id = "bench"', `path = ${JSON.stringify(path.resolve(model.target))}`, "default = true", `context_size = ${contextSize}`, "parallel = 1",
      'speculative = "none"', "keep_alive_seconds = 0", `flash_attention = "${flashAttention}"`, `mmap = "${mmap}"`,
    ].join("\n"),
    gpu,
  });
  const peer = peerBinary == null ? null : await startLlamaServer(peerBinary, { model: model.target, parallel: 1, contextPerSlot: contextSize, threads, flashAttention, mmap, gpu });
  const targets: Target[] = [{ server: "enclave", url: enclave.url, headers: enclave.headers }, ...(peer == null ? [] : [{ server: "llama-server" as const, url: peer.url, headers: {} }])];
  let runs: Run[];
  const firstTokens: PresetResult["firstTokens"] = { busy: [], idle: [] };
  try {
    runs = await alternate(targets, repeats, decodePauseMs, async (target) => {
      const run = await measure(target);
      console.error(`  ${preset} ${target.server.padEnd(12)} ${fixed(run.decodeTokensPerSecond)} tok/s, ${run.completionTokens} tokens`);
      return run;
    });
    for (const target of targets) for (let index = 0; index < warmup; index++) await firstToken(target);
    firstTokens.busy = await inBlocks(targets, firstTokenRepeats, firstTokenPauses.busy, firstToken);
    firstTokens.idle = await alternate(targets, firstTokenRepeats, firstTokenPauses.idle, firstToken);
  } finally {
    await peer?.[Symbol.asyncDispose]();
    await enclave[Symbol.asyncDispose]();
  }
  const of = (name: Run["server"]) => runs.filter((run) => run.server === name);
  const peerRuns = of("llama-server");
  const ttft = (measured: FirstToken[]) => {
    const of = (name: Run["server"]) => median(measured.filter((first) => first.server === name).map((first) => first.ttftMs));
    return { enclave: of("enclave"), llamaServer: peer == null ? null : of("llama-server") };
  };
  return {
    preset,
    enclave: median(of("enclave").map((run) => run.decodeTokensPerSecond)),
    llamaServer: peer == null ? null : median(peerRuns.map((run) => run.decodeTokensPerSecond)),
    sameText: peer == null ? null : peerRuns.every((run) => run.text === of("enclave")[0]?.text),
    ttftMs: { busy: ttft(firstTokens.busy), idle: ttft(firstTokens.idle) },
    firstTokenPromptTokens: firstTokens.busy.find((first) => first.server === "enclave")?.promptTokens ?? Number.NaN,
    runs,
    firstTokens,
  };
}

const results: PresetResult[] = [];
for (const preset of presets) results.push(await benchPreset(preset));

console.table(
  results.map((result) => ({
    model: result.preset,
    "enclave tok/s (p50)": fixed(result.enclave),
    ...(peerBinary != null && {
      "llama-server tok/s (p50)": fixed(result.llamaServer ?? Number.NaN),
      "enclave / llama-server": fixed(result.enclave / (result.llamaServer ?? Number.NaN), 3),
      "same text": result.sameText ? "yes" : "no",
    }),
    ...Object.fromEntries(
      (Object.keys(firstTokenPauses) as (keyof typeof firstTokenPauses)[]).flatMap((pause) => {
        const { enclave, llamaServer } = result.ttftMs[pause];
        const label = `${firstTokenPauses[pause]} ms apart`;
        return [
          [`enclave TTFT ms, ${label}`, fixed(enclave)],
          ...(llamaServer == null ? [] : [[`llama-server TTFT ms, ${label}`, fixed(llamaServer)], [`TTFT difference ms, ${label}`, fixed(enclave - llamaServer)]]),
        ];
      }),
    ),
  })),
);
console.log(`flash attention: ${flashAttention}; mmap: ${mmap}`);
console.log(`first token: a ${results[0]?.firstTokenPromptTokens ?? "?"}-token prompt, ${firstTokenRepeats} times per server and pause, after ${values.warmup} unmeasured`);
if (peerBinary == null) console.log("set LLAMA_SERVER to a llama-server binary to run it side by side");
writeResults("bench-overhead", machine, { tokens, repeats, firstTokenRepeats, contextSize, flashAttention, mmap, addon, results });
