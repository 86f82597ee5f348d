/**
 * Shared by the bench:* scripts: options, the forged model, machine info, percentiles, one
 * streaming HTTP client, and writing results. Benchmarks print a table and write JSON to
 * bench-results/; they are not timed tests.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { getLlama, type Llama, LlamaLogLevel } from "node-llama-cpp";
import { configSchema, type ModelConfig } from "../src/config/schema";
import { forgePair, resolveForgeOptions } from "../src/forge";
import type { GenerationRequest } from "../src/inference/types";

export const silentLogger = { debug() {}, info() {}, warn() {}, error() {} };

export interface ForgedModel {
  preset: string;
  target: string;
  draft: string;
  contextLength: number;
}

/** The forged pair of a preset (bench: TinyLlama's shape, 1.07 GB; demo: 28 MB), cached in `cache`. */
export async function forgedModel(preset: string, cache = "./.cache/forge"): Promise<ForgedModel> {
  const options = resolveForgeOptions(preset);
  const started = performance.now();
  const manifest = await forgePair(options, cache);
  console.error(`model: forged ${preset} pair ready in ${((performance.now() - started) / 1000).toFixed(1)} s (${cache})`);
  return { preset, target: join(cache, manifest.target.file), draft: join(cache, manifest.draft.file), contextLength: options.contextLength };
}

/** llama.cpp on the CPU with `threads` threads, quiet. */
export function cpuLlama(threads: number): Promise<Llama> {
  return getLlama({ gpu: false, build: "never", skipDownload: true, maxThreads: threads, logLevel: LlamaLogLevel.error });
}

/** A served model config for the forged target: no draft, so runs compare the serving paths and not drafting luck. */
export function benchModelConfig(model: ForgedModel, options: { parallel: number; contextSize: number; threads: number; queueSize?: number }): ModelConfig {
  const base = configSchema.parse({ models: [{ id: "bench", path: model.target }] }).models[0]!;
  return {
    ...base,
    default: true,
    context_size: options.contextSize,
    parallel: options.parallel,
    queue_size: options.queueSize ?? 32,
    threads: options.threads,
    speculative: "none",
    keep_alive_seconds: 0,
  };
}

export const PROMPT = "The quick brown fox";

export function textRequest(maxTokens: number, requestId = `bench_${crypto.randomUUID()}`): GenerationRequest {
  return {
    requestId,
    model: "bench",
    input: { kind: "text", prompt: PROMPT },
    sampling: { maxTokens, temperature: 0, topP: 1, stop: [], presencePenalty: 0, frequencyPenalty: 0, logitBias: {} },
    responseFormat: { type: "text" },
    topLogprobs: null,
    signal: new AbortController().signal,
    waitForModel: true,
  };
}

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  threads: number;
  memoryGiB: number;
  loadAverage1m: number;
  bun: string;
  platform: string;
  preset: string;
}

export function machineInfo(threads: number, preset: string): MachineInfo {
  return {
    cores: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    threads,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadAverage1m: Math.round(loadavg()[0]! * 100) / 100,
    bun: Bun.version,
    platform: `${process.platform}-${process.arch}`,
    preset,
  };
}

export function printMachine(info: MachineInfo): void {
  console.log(
    `machine: ${info.cores} cores (${info.cpuModel}), ${info.memoryGiB} GiB, load ${info.loadAverage1m}; llama.cpp threads ${info.threads}; bun ${info.bun} ${info.platform}; model preset ${info.preset}`,
  );
}

/** The p-th percentile (0-100) by nearest rank; NaN for no values. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const median = (values: number[]) => percentile(values, 50);

/** CPU time a process has used, in clock ticks (utime + stime of /proc/<pid>/stat); null where there is no /proc. */
function cpuTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}

/**
 * Waits until the servers' processes stop using the CPU (at most a tick in 100 ms), or 5 s. After its last token a
 * llama.cpp server's compute threads keep spinning for work, 170-190 ms of a core on a 2-core EPYC: the next run,
 * on the other server, would have a core less for its start. Without this, the server that went second after a turn
 * of the other lost that much, and alternating the order by shape made it the same server for every shuffled run.
 */
export async function untilIdle(pids: number[]): Promise<void> {
  const deadline = performance.now() + 5_000;
  let before = pids.map(cpuTicks);
  if (before.some((ticks) => ticks == null)) return Bun.sleep(1_000);
  while (performance.now() < deadline) {
    await Bun.sleep(100);
    const now = pids.map(cpuTicks);
    const used = now.reduce<number>((sum, ticks, index) => sum + ((ticks ?? 0) - (before[index] ?? 0)), 0);
    if (used <= 1) return;
    before = now;
  }
}
export const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : "-");

/** Writes `data` with the machine info to bench-results/<name>-<time>.json and says where. */
export function writeResults(name: string, machine: MachineInfo, data: unknown): string {
  mkdirSync("bench-results", { recursive: true });
  const file = join("bench-results", `${name}-${new Date().toISOString().replaceAll(":", "-")}.json`);
  writeFileSync(file, `${JSON.stringify({ name, at: new Date().toISOString(), machine, ...(data as object) }, null, 2)}\n`);
  console.log(`wrote ${file}`);
  return file;
}

export interface StreamResult {
  status: number;
  /** Request sent to first content chunk, ms. */
  ttftMs: number;
  /** Gaps between content chunks, ms. */
  gapsMs: number[];
  completionTokens: number;
  /** Prompt tokens the server read from its prompt cache (usage.prompt_tokens_details, or llama-server's timings.cache_n); NaN when it does not say. */
  cachedTokens: number;
  promptTokens: number;
  text: string;
  /** First content chunk to the last, ms. */
  decodeMs: number;
  totalMs: number;
}

/**
 * POSTs a streaming completion and reads its SSE events as a client would; times the first
 * content chunk and the gaps between chunks; the token count comes from the final usage chunk.
 */
export async function streamCompletion(url: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<StreamResult> {
  const started = performance.now();
  const response = await fetch(url, {
    method: "POST",
    // A connection per request: llama-server closes one idle for 5 s, and a pooled one reused after that fails with ECONNRESET.
    headers: { "content-type": "application/json", connection: "close", ...headers },
    body: JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } }),
  });
  if (response.status !== 200 || response.body == null) {
    await response.text();
    const totalMs = performance.now() - started;
    return { status: response.status, ttftMs: Number.NaN, gapsMs: [], completionTokens: 0, cachedTokens: Number.NaN, promptTokens: 0, text: "", decodeMs: 0, totalMs };
  }
  const decoder = new TextDecoder();
  let buffer = "";
  let first = 0;
  let last = 0;
  const gapsMs: number[] = [];
  let completionTokens = 0;
  let promptTokens = 0;
  let cachedTokens = Number.NaN;
  let text = "";
  for await (const bytes of response.body) {
    buffer += decoder.decode(bytes, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (!event.startsWith("data: ") || event === "data: [DONE]") continue;
      const chunk = JSON.parse(event.slice(6)) as {
        choices?: { text?: string; delta?: { content?: string } }[];
        usage?: { completion_tokens: number; prompt_tokens: number; prompt_tokens_details?: { cached_tokens?: number } } | null;
        timings?: { cache_n?: number };
      };
      const piece = chunk.choices?.[0]?.text ?? chunk.choices?.[0]?.delta?.content ?? "";
      if (chunk.usage != null) {
        completionTokens = chunk.usage.completion_tokens;
        promptTokens = chunk.usage.prompt_tokens;
        cachedTokens = chunk.usage.prompt_tokens_details?.cached_tokens ?? cachedTokens;
      }
      if (chunk.timings?.cache_n != null && Number.isNaN(cachedTokens)) cachedTokens = chunk.timings.cache_n;
      if (piece.length === 0) continue;
      text += piece;
      const at = performance.now();
      if (first === 0) first = at;
      else gapsMs.push(at - last);
      last = at;
    }
  }
  const totalMs = performance.now() - started;
  return { status: 200, ttftMs: first - started, gapsMs, completionTokens, cachedTokens, promptTokens, text, decodeMs: last - first, totalMs };
}
