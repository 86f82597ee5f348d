/**
 * Concurrent streams through the served API (keys, limits, metering, metrics and the request log
 * in the path): 1, 2, 4 and 8 streams of the same greedy completion at once, over one context
 * with 8 sequences that llama.cpp decodes in one batch. Reports aggregate tokens/s, p50/p95 TTFT
 * and inter-token latency, and the 429/503 answers. The HTTP client runs in this process, so its
 * parsing is part of the measured cost. A 1 ms timer keeps the event loop awake (see bench-api.ts).
 *
 *   bun run bench:concurrency [--preset bench|demo] [--levels 1,2,4,8] [--tokens 128] [--threads 2]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { cliActor } from "../src/accounts/actor";
import { createApp } from "../src/api/app";
import { guardedRoutes } from "../test/support/guarded-routes";
import { configSchema } from "../src/config/schema";
import { openStore } from "../src/db/client";
import { migrate } from "../src/db/migrate";
import { createLlamaEngine } from "../src/inference/llama-engine";
import { createLogger } from "../src/logging/logger";
import { createMetrics } from "../src/metrics/metrics-registry";
import { createMetricsRoutes } from "../src/metrics/metrics-routes";
import { benchModelConfig, cpuLlama, fixed, forgedModel, machineInfo, percentile, printMachine, PROMPT, silentLogger, streamCompletion, type StreamResult, writeResults } from "./bench-support";

const { values } = parseArgs({
  options: {
    preset: { type: "string", default: "bench" },
    levels: { type: "string", default: "1,2,4,8" },
    tokens: { type: "string", default: "128" },
    threads: { type: "string", default: "2" },
    cache: { type: "string", default: "./.cache/forge" },
  },
});
const levels = values.levels.split(",").map(Number);
const tokens = Number(values.tokens);
const threads = Number(values.threads);
const slots = Math.max(...levels);
const machine = machineInfo(threads, values.preset);
printMachine(machine);

const model = await forgedModel(values.preset, values.cache);
const llama = await cpuLlama(threads);
const dataDir = mkdtempSync(join(tmpdir(), "enclave-bench-"));
const store = openStore(dataDir);
migrate(store);
// Key and account limits at the largest level, so what is measured is the engine, not the gate's queue.
const config = configSchema.parse({ limits: { concurrency: slots, account_concurrency: slots } });
const metrics = createMetrics({ config, version: "bench" });
const engine = metrics.instrument(
  createLlamaEngine({
    config: { engine: { gpu: "cpu", max_threads: threads }, models: [benchModelConfig(model, { parallel: slots, contextSize: 512, threads })] },
    logger: silentLogger,
    loadLlama: async () => llama,
  }),
);
await engine.start();
const logger = createLogger({ logging: { level: "info" } }, { write() {} });
const guarded = guardedRoutes({ config, engine, store, logger });
const app = createApp({ config, engine, logger, metrics, version: "bench", storeIsOpen: () => true, routes: [...guarded.routes, createMetricsRoutes({ config, metrics })] });
const cli = cliActor("bench");
const { secret } = await guarded.keys.create(cli, { name: "bench", account_id: (await guarded.accounts.ensureDefault(cli)).id });
const server = Bun.serve({ hostname: "127.0.0.1", port: 0, idleTimeout: 255, fetch: (request) => app.handle(request) });
const url = `http://127.0.0.1:${server.port}/v1/completions`;
const awake = setInterval(() => {}, 1);

const once = () => streamCompletion(url, { model: "bench", prompt: PROMPT, max_tokens: tokens, temperature: 0 }, { authorization: `Bearer ${secret}` });
await once();

interface Level {
  streams: number;
  aggregateTokensPerSecond: number;
  ttftP50Ms: number;
  ttftP95Ms: number;
  itlP50Ms: number;
  itlP95Ms: number;
  status429: number;
  status503: number;
  wallSeconds: number;
}
const rows: Level[] = [];
for (const streams of levels) {
  const started = performance.now();
  const results: StreamResult[] = await Promise.all(Array.from({ length: streams }, once));
  const wallSeconds = (performance.now() - started) / 1000;
  const ok = results.filter((result) => result.status === 200);
  const row: Level = {
    streams,
    aggregateTokensPerSecond: ok.reduce((sum, result) => sum + result.completionTokens, 0) / wallSeconds,
    ttftP50Ms: percentile(ok.map((result) => result.ttftMs), 50),
    ttftP95Ms: percentile(ok.map((result) => result.ttftMs), 95),
    itlP50Ms: percentile(ok.flatMap((result) => result.gapsMs), 50),
    itlP95Ms: percentile(ok.flatMap((result) => result.gapsMs), 95),
    status429: results.filter((result) => result.status === 429).length,
    status503: results.filter((result) => result.status === 503).length,
    wallSeconds,
  };
  rows.push(row);
  console.error(`  ${streams} streams: ${fixed(row.aggregateTokensPerSecond)} tok/s aggregate`);
}
clearInterval(awake);
server.stop(true);
await engine[Symbol.asyncDispose]();
await llama.dispose();
store[Symbol.dispose]();
rmSync(dataDir, { recursive: true, force: true });

console.table(
  rows.map((row) => ({
    streams: row.streams,
    "aggregate tok/s": fixed(row.aggregateTokensPerSecond),
    "TTFT p50 ms": fixed(row.ttftP50Ms),
    "TTFT p95 ms": fixed(row.ttftP95Ms),
    "ITL p50 ms": fixed(row.itlP50Ms, 2),
    "ITL p95 ms": fixed(row.itlP95Ms, 2),
    "429s": row.status429,
    "503s": row.status503,
  })),
);
console.log("anchor (llama-server, bench model, this class of machine): 1 slot 36.2, 4 slots 48.6, 8 slots 73.2 tok/s aggregate");
writeResults("bench-concurrency", machine, { tokens, slots, rows });
