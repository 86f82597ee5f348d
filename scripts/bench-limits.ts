/**
 * What keys, limits and metering cost per request: requests/s of a 1-token completion through the
 * app with the guarded /v1 routes (bearer key hash check, admission, concurrency slot, one SQLite
 * metering row) against the same routes with no guard, over the same engine, in process
 * (app.handle: no network). Runs on the forged model and on the fake engine, whose near-zero
 * generation cost leaves the overhead itself visible. Variants alternate so both see the same load.
 *
 * With --store postgres it measures the store's share instead (see bench-limits-store.ts): key
 * read, admission, release and a usage row per request on SQLite beside Postgres (two nodes), in a
 * database it creates on the server --database-url names.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliActor } from "../src/accounts/actor";
import { fixedCallerGate } from "../test/support/fixed-caller-gate";
import { createApp } from "../src/api/app";
import { guardedRoutes } from "../test/support/guarded-routes";
import { createOpenAiRoutes } from "../src/api/openai/routes";
import { configSchema } from "../src/config/schema";
import { openStore } from "../src/db/client";
import { migrate } from "../src/db/migrate";
import type { Engine } from "../src/inference/engine";
import { createFakeEngine } from "../src/inference/fake-engine";
import { createLlamaEngine } from "../src/inference/llama-engine";
import { createLogger } from "../src/logging/logger";
import { benchLimitsOnStores, printStoreRows } from "./bench-limits-store";
import { benchModelConfig, cpuLlama, fixed, forgedModel, machineInfo, percentile, printMachine, PROMPT, silentLogger, writeResults } from "./bench-support";
import { numberArg, scriptArgs } from "./script-args";

const values = scriptArgs("bench:limits", [
  "bun run bench:limits [--preset bench|demo] [--seconds 4] [--rounds 2] [--concurrency 2] [--threads 2]",
  "bun run bench:limits --store postgres --database-url postgres://... [--calls 2000] [--callers 8]",
].join("\n       "), {
  preset: { type: "string", default: "bench" },
  seconds: { type: "string", default: "4" },
  rounds: { type: "string", default: "2" },
  concurrency: { type: "string", default: "2" },
  threads: { type: "string", default: "2" },
  cache: { type: "string", default: "./.cache/forge" },
  store: { type: "string", default: "sqlite" },
  "database-url": { type: "string" },
  calls: { type: "string", default: "2000" },
  callers: { type: "string", default: "8" },
});
if (values.store === "postgres") {
  const url = values["database-url"];
  if (url == null) throw new Error("--store postgres needs --database-url postgres://USER@HOST:PORT/DB (a server where the bench may create a database)");
  const storeMachine = machineInfo(0, "none");
  printMachine(storeMachine);
  const concurrency = numberArg("callers", values.callers);
  const rows = await benchLimitsOnStores({ databaseUrl: url, calls: numberArg("calls", values.calls), concurrency });
  printStoreRows(rows, concurrency);
  writeResults("bench-limits-store", storeMachine, { calls: numberArg("calls", values.calls), concurrency, rows });
  process.exit(0);
}
const seconds = numberArg("seconds", values.seconds);
const rounds = numberArg("rounds", values.rounds);
const concurrency = numberArg("concurrency", values.concurrency);
const threads = numberArg("threads", values.threads);
const machine = machineInfo(threads, values.preset);
printMachine(machine);

const model = await forgedModel(values.preset, values.cache);
const llama = await cpuLlama(threads);
const config = configSchema.parse({ limits: { concurrency, account_concurrency: concurrency } });
const logger = createLogger({ logging: { level: "info" } }, { write() {} });
const awake = setInterval(() => {}, 1);

type Handle = (request: Request) => Promise<Response>;

async function stacks(engine: Engine, dataDir: string) {
  const store = openStore(dataDir);
  migrate(store);
  const guarded = guardedRoutes({ config, engine, store, logger });
  const cli = cliActor("bench");
  const { secret } = await guarded.keys.create(cli, { name: "bench", account_id: (await guarded.accounts.ensureDefault(cli)).id });
  const shell = { config, engine, logger, version: "bench", storeIsOpen: () => true };
  const plain = createApp({ ...shell, routes: [createOpenAiRoutes({ engine, gate: fixedCallerGate() })] });
  const withGate = createApp({ ...shell, routes: guarded.routes });
  return { plain: (request: Request) => plain.handle(request), guarded: (request: Request) => withGate.handle(request), secret, store };
}

const body = JSON.stringify({ model: "bench", prompt: PROMPT, max_tokens: 1, temperature: 0 });
const completion = (secret: string | null) =>
  new Request("http://localhost/v1/completions", { method: "POST", headers: { "content-type": "application/json", ...(secret && { authorization: `Bearer ${secret}` }) }, body });

/** `concurrency` clients in a closed loop for `seconds`: requests/s and latencies. */
async function load(handle: Handle, secret: string | null) {
  const latencies: number[] = [];
  let failures = 0;
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const started = performance.now();
        const response = await handle(completion(secret));
        await response.arrayBuffer();
        if (response.status !== 200) failures++;
        latencies.push(performance.now() - started);
      }
    }),
  );
  return { requests: latencies.length, failures, latencies };
}

interface Row {
  engine: string;
  stack: "no auth/limits/metering" | "auth + limits + metering";
  requestsPerSecond: number;
  p50Ms: number;
  p95Ms: number;
  failures: number;
}
const rows: Row[] = [];
const engines: [string, Engine][] = [
  [`llama.cpp ${values.preset}`, createLlamaEngine({ config: { engine: { gpu: "cpu", max_threads: threads }, models: [benchModelConfig(model, { parallel: concurrency, contextSize: 256, threads })] }, logger: silentLogger, loadLlama: async () => llama })],
  ["fake", createFakeEngine({ models: [{ id: "bench", parallel: concurrency }] })],
];
for (const [name, engine] of engines) {
  await engine.start();
  const dataDir = mkdtempSync(join(tmpdir(), "enclave-bench-"));
  const app = await stacks(engine, dataDir);
  await load(app.plain, null);
  await load(app.guarded, app.secret);
  const totals = { plain: { requests: 0, failures: 0, latencies: [] as number[] }, guarded: { requests: 0, failures: 0, latencies: [] as number[] } };
  for (let round = 0; round < rounds; round++)
    for (const variant of round % 2 === 0 ? (["plain", "guarded"] as const) : (["guarded", "plain"] as const)) {
      const result = await load(app[variant], variant === "guarded" ? app.secret : null);
      totals[variant].requests += result.requests;
      totals[variant].failures += result.failures;
      totals[variant].latencies.push(...result.latencies);
      console.error(`  ${name} ${variant}: ${fixed(result.requests / seconds)} req/s`);
    }
  for (const variant of ["plain", "guarded"] as const)
    rows.push({
      engine: name,
      stack: variant === "plain" ? "no auth/limits/metering" : "auth + limits + metering",
      requestsPerSecond: totals[variant].requests / (seconds * rounds),
      p50Ms: percentile(totals[variant].latencies, 50),
      p95Ms: percentile(totals[variant].latencies, 95),
      failures: totals[variant].failures,
    });
  await engine[Symbol.asyncDispose]();
  app.store[Symbol.dispose]();
  rmSync(dataDir, { recursive: true, force: true });
}
clearInterval(awake);
await llama.dispose();

console.table(rows.map((row) => ({ engine: row.engine, stack: row.stack, "req/s": fixed(row.requestsPerSecond), "p50 ms": fixed(row.p50Ms, 2), "p95 ms": fixed(row.p95Ms, 2), failures: row.failures })));
const ratios = [...new Set(rows.map((row) => row.engine))].map((engine) => {
  const [plain, guarded] = rows.filter((row) => row.engine === engine);
  const overheadMs = 1000 / guarded!.requestsPerSecond - 1000 / plain!.requestsPerSecond;
  console.log(`${engine}: guarded/plain req/s ${fixed(guarded!.requestsPerSecond / plain!.requestsPerSecond, 3)}; about ${fixed(overheadMs * concurrency, 2)} ms more per request`);
  return { engine, ratio: guarded!.requestsPerSecond / plain!.requestsPerSecond, addedMsPerRequest: overheadMs * concurrency };
});
writeResults("bench-limits", machine, { seconds, rounds, concurrency, rows, ratios });
