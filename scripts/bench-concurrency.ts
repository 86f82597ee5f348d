/**
 * Concurrent streams through `enclave serve` in its own process (keys, limits, metering, metrics
 * and the request log in the path; see enclave-serve-process.ts), over one context with `--slots`
 * sequences that llama.cpp decodes in one batch, in two shapes at each stream count:
 *
 * - burst: N streams of the same greedy completion start at once;
 * - shuffled: N clients each send `--rounds` requests back to back, with seeded random lengths
 *   and start offsets, so departures and arrivals interleave and every request lands on whatever
 *   sequence the last ones left free (the slot history a long-running server has).
 *
 * Reports aggregate tokens/s, p50/p95 TTFT and inter-token latency, and 429/503 answers. No timer
 * keeps the event loop awake: this is the server as served. With LLAMA_SERVER pointing at a
 * llama-server build (see llama-server-peer.ts) the same requests, from the same seeded plan, run
 * against it with as many slots, the two servers taking turns at each step, each run starting once
 * both are idle (see untilIdle), and a last table sets the two side by side. With `--repeats K` each
 * step runs K times per server, still taking turns: a 2-core machine drifts 10-20% between runs a
 * few seconds apart, and the table then gives the median of the K paired ratios and their range.
 * `--mmap` sets the model's `mmap` and, as Enclave resolves it, llama-server's `--no-mmap`.
 */
import { resolve } from "node:path";
import { modelSchema } from "../src/config/schema";
import { SeededRandom } from "../src/forge/seeded-random";
import { fixed, forgedModel, machineInfo, median, percentile, printMachine, PROMPT, streamCompletion, type StreamResult, untilIdle, writeResults } from "./bench-support";
import { startEnclaveServe } from "./enclave-serve-process";
import { llamaServerBinary, startLlamaServer } from "./llama-server-peer";
import { choiceArg, numberArg, scriptArgs } from "./script-args";

const values = scriptArgs("bench:concurrency", "bun run bench:concurrency [--preset bench|demo] [--levels 1,2,4,8] [--tokens 128] [--rounds 3] [--threads 2] [--seed 1] [--kv-unified true|false] [--warmup 15] [--repeats 1] [--mmap auto|on|off] [--gpu cpu|cuda]", {
  preset: { type: "string", default: "bench" },
  levels: { type: "string", default: "1,2,4,8" },
  slots: { type: "string" },
  tokens: { type: "string", default: "128" },
  rounds: { type: "string", default: "3" },
  threads: { type: "string", default: "2" },
  seed: { type: "string", default: "1" },
  "kv-unified": { type: "string", default: "false" },
  warmup: { type: "string", default: "15" },
  repeats: { type: "string", default: "1" },
  mmap: { type: "string", default: "auto" },
  gpu: { type: "string", default: "cpu" },
  cache: { type: "string", default: "./.cache/forge" },
});
const levels = values.levels.split(",").map((level) => numberArg("levels", level));
const tokens = numberArg("tokens", values.tokens);
const rounds = numberArg("rounds", values.rounds);
const threads = numberArg("threads", values.threads);
const seed = numberArg("seed", values.seed);
const slots = values.slots == null ? Math.max(...levels) : numberArg("slots", values.slots, 1);
const repeats = numberArg("repeats", values.repeats, 1);
const warmup = numberArg("warmup", values.warmup);
const kvUnified = values["kv-unified"] !== "false";
const mmap = modelSchema.shape.mmap.parse(values.mmap);
/** "cuda": every layer on the GPU on both sides (Enclave's `gpu_layers = "max"`, llama-server's `-ngl 999`), on the same CUDA libraries. */
const gpu = choiceArg("gpu", values.gpu, ["cpu", "cuda"]);
const contextSize = 512;
const machine = machineInfo(threads, values.preset);
printMachine(machine);

type Server = "enclave" | "llama-server";
type Shape = "burst" | "shuffled";

interface Target {
  server: Server;
  url: string;
  headers: Record<string, string>;
}

interface Level {
  server: Server;
  /** Which of the `--repeats` runs of this step. */
  repeat: number;
  shape: Shape;
  streams: number;
  requests: number;
  aggregateTokensPerSecond: number;
  ttftP50Ms: number;
  ttftP95Ms: number;
  itlP50Ms: number;
  itlP95Ms: number;
  status429: number;
  status503: number;
  wallSeconds: number;
}

const send = (target: Target, maxTokens: number) =>
  streamCompletion(target.url, { model: "bench", prompt: PROMPT, max_tokens: maxTokens, temperature: 0 }, target.headers);

function summarize(target: Target, shape: Shape, streams: number, results: StreamResult[], wallSeconds: number): Omit<Level, "repeat"> {
  const ok = results.filter((result) => result.status === 200);
  return {
    server: target.server,
    shape,
    streams,
    requests: results.length,
    aggregateTokensPerSecond: ok.reduce((sum, result) => sum + result.completionTokens, 0) / wallSeconds,
    ttftP50Ms: percentile(ok.map((result) => result.ttftMs), 50),
    ttftP95Ms: percentile(ok.map((result) => result.ttftMs), 95),
    itlP50Ms: percentile(ok.flatMap((result) => result.gapsMs), 50),
    itlP95Ms: percentile(ok.flatMap((result) => result.gapsMs), 95),
    status429: results.filter((result) => result.status === 429).length,
    status503: results.filter((result) => result.status === 503).length,
    wallSeconds,
  };
}

async function burst(target: Target, streams: number): Promise<Omit<Level, "repeat">> {
  const started = performance.now();
  const results = await Promise.all(Array.from({ length: streams }, () => send(target, tokens)));
  return summarize(target, "burst", streams, results, (performance.now() - started) / 1000);
}

/**
 * N clients, each starting after a random offset of up to one short request and sending `rounds`
 * requests of random length (half to one and a half times `--tokens`) back to back. The plan is
 * drawn before anything runs, from a seed per level, so both servers get the same one.
 */
async function shuffled(target: Target, streams: number): Promise<Omit<Level, "repeat">> {
  const random = new SeededRandom(seed, `shuffled-${streams}`);
  const plan = Array.from({ length: streams }, () => ({
    offsetMs: random.below(250),
    lengths: Array.from({ length: rounds }, () => Math.floor(tokens / 2) + random.below(tokens + 1)),
  }));
  const results: StreamResult[] = [];
  const started = performance.now();
  await Promise.all(
    plan.map(async ({ offsetMs, lengths }) => {
      await Bun.sleep(offsetMs);
      for (const length of lengths) results.push(await send(target, length));
    }),
  );
  return summarize(target, "shuffled", streams, results, (performance.now() - started) / 1000);
}

interface Running extends AsyncDisposable {
  target: Target;
  pid: number;
}

async function startEnclave(): Promise<Running> {
  const enclave = await startEnclaveServe({
    threads,
    models: [
      'id = "bench"', `path = ${JSON.stringify(resolve(model.target))}`, "default = true", `context_size = ${contextSize}`, `parallel = ${slots}`,
      "queue_size = 32", 'speculative = "none"', "keep_alive_seconds = 0", `kv_unified = ${kvUnified}`, `mmap = "${mmap}"`,
    ].join("\n"),
    gpu,
    // Key and account limits at the slot count, so what is measured is the engine, not the gate's queue.
    tables: `[limits]\nconcurrency = ${slots}\naccount_concurrency = ${slots}`,
  });
  const target: Target = { server: "enclave", url: `${enclave.url}/v1/completions`, headers: enclave.headers };
  return {
    target,
    pid: enclave.pid,
    async [Symbol.asyncDispose]() {
      const status = (await (await fetch(`${enclave.url}/admin/status`, { headers: enclave.headers })).json()) as { models: { busy_sequences: number }[] };
      await enclave[Symbol.asyncDispose]();
      const busy = status.models[0]?.busy_sequences;
      if (busy !== 0) throw new Error(`${busy} sequences still busy after every stream ended`);
    },
  };
}

async function startPeer(binary: string): Promise<Running> {
  const peer = await startLlamaServer(binary, { model: model.target, parallel: slots, contextPerSlot: contextSize, threads, kvUnified, mmap, gpu });
  return { target: { server: "llama-server", url: `${peer.url}/v1/completions`, headers: {} }, pid: peer.pid, [Symbol.asyncDispose]: () => peer[Symbol.asyncDispose]() };
}

const model = await forgedModel(values.preset, values.cache);
const peerBinary = llamaServerBinary();
const rows: Level[] = [];
{
  await using enclave = await startEnclave();
  await using peer = peerBinary == null ? null : await startPeer(peerBinary);
  const targets = [enclave.target, ...(peer == null ? [] : [peer.target])];
  const pids = [enclave.pid, ...(peer == null ? [] : [peer.pid])];
  // Warm: Enclave's JavaScript runs its first requests before the JIT has compiled them (its first 128 tokens at about
  // half speed, and until about its tenth request a first token after a pause in 27-31 ms instead of 3-9), which a
  // server in use is past.
  for (const target of targets) for (let round = 0; round < warmup; round++) await send(target, tokens);
  let turn = 0;
  for (const streams of levels) {
    for (const run of [burst, shuffled]) {
      // Both servers are up, and take turns going first, so drift in machine load falls on both.
      for (let repeat = 0; repeat < repeats; repeat++) {
        for (const target of turn++ % 2 === 0 ? targets : [...targets].reverse()) {
          await untilIdle(pids);
          const row = { ...(await run(target, streams)), repeat };
          rows.push(row);
          console.error(`  ${target.server} ${row.shape} ${streams} streams: ${fixed(row.aggregateTokensPerSecond)} tok/s aggregate, TTFT p95 ${fixed(row.ttftP95Ms)} ms`);
        }
      }
    }
  }
}

console.table(
  rows.map((row) => ({
    server: row.server,
    shape: row.shape,
    streams: row.streams,
    ...(repeats > 1 && { repeat: row.repeat + 1 }),
    requests: row.requests,
    "aggregate tok/s": fixed(row.aggregateTokensPerSecond),
    "TTFT p50 ms": fixed(row.ttftP50Ms),
    "TTFT p95 ms": fixed(row.ttftP95Ms),
    "ITL p50 ms": fixed(row.itlP50Ms, 2),
    "ITL p95 ms": fixed(row.itlP95Ms, 2),
    "429s": row.status429,
    "503s": row.status503,
  })),
);
if (peerBinary == null) console.log("set LLAMA_SERVER to a llama-server binary to run it side by side");
else {
  // Each repeat's two runs were back to back: their ratio is the pair's, and the median ratio the step's.
  const of = (server: Server, shape: Shape, streams: number) => rows.filter((row) => row.server === server && row.shape === shape && row.streams === streams).sort((a, b) => a.repeat - b.repeat);
  console.table(
    rows
      .filter((row) => row.server === "enclave" && row.repeat === 0)
      .map(({ shape, streams }) => {
        const [enclave, peer] = [of("enclave", shape, streams), of("llama-server", shape, streams)];
        const ratios = enclave.map((row, index) => row.aggregateTokensPerSecond / peer[index]!.aggregateTokensPerSecond);
        const tokensPerSecond = (runs: Level[]) => median(runs.map((row) => row.aggregateTokensPerSecond));
        const ttftP95 = (runs: Level[]) => median(runs.map((row) => row.ttftP95Ms));
        return {
          shape,
          streams,
          "enclave tok/s": fixed(tokensPerSecond(enclave)),
          "llama-server tok/s": fixed(tokensPerSecond(peer)),
          "enclave / llama-server": fixed(median(ratios), 2),
          ...(repeats > 1 && { "ratio range": `${fixed(Math.min(...ratios), 2)}-${fixed(Math.max(...ratios), 2)}` }),
          "TTFT p95 ms (enclave / llama-server)": `${fixed(ttftP95(enclave))} / ${fixed(ttftP95(peer))}`,
        };
      }),
  );
  if (repeats > 1) console.log(`medians of ${repeats} runs per server and step; the ratio is the median of the ${repeats} back-to-back pairs' ratios`);
}
writeResults("bench-concurrency", machine, { tokens, rounds, seed, slots, contextSize, repeats, mmap, rows });
