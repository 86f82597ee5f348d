/**
 * `bench:limits --store postgres`: what auth's store read, admission (limits), release and one
 * metering row cost per request on SQLite (one node, in-process limiter and windows) and on
 * Postgres (two nodes, the fleet limiter and windows), without the HTTP app or an engine: each
 * request reads the key row by its lookup, is admitted, releases its slot, records its tokens and
 * writes its usage row. Latency is one request at a time; requests/s is `concurrency` callers (--callers) at
 * once, spread over the nodes. Three limit settings: the defaults (concurrency caps only), a key
 * with rpm and tpm (a window read and a window take more), and that key with a daily token budget
 * too (a sum over the key's usage rows of the day, which grow as the bench runs).
 */
import { eq } from "drizzle-orm";
import { configSchema } from "../src/config/schema";
import type { PgDb } from "../src/db/pg-client";
import * as pg from "../src/db/pg-schema";
import * as lite from "../src/db/schema";
import type { AccountRow, ApiKeyRow } from "../src/db/schema";
import { createAdmission, type Admission } from "../src/limits/admission";
import { createPgConcurrencyLimiter } from "../src/limits/pg-concurrency-limiter";
import { createPgRateWindows } from "../src/limits/pg-rate-windows";
import type { UsageEvent } from "../src/metering/usage-recorder";
import { createPgUsageRepository } from "../src/store/pg-usage-repository";
import { createPgAccountRepository } from "../src/store/pg-account-repository";
import { createSqliteAccountRepository } from "../src/store/sqlite-account-repository";
import { createSqliteUsageRepository } from "../src/store/sqlite-usage-repository";
import type { UsageRepository } from "../src/store/usage-repository";
import { pgLimitsStore } from "../test/support/pg-limits-store";
import { tempStore } from "../test/support/temp-store";
import { fixed, percentile } from "./bench-support";

export interface StoreBenchRow {
  store: "sqlite" | "postgres";
  limits: string;
  p50Ms: number;
  p99Ms: number;
  requestsPerSecond: number;
  failures: number;
}

/** One node's request path: read the key, admit, release, meter. */
interface Node {
  lookupKey(): Promise<unknown>;
  admission: Admission;
  usage: UsageRepository;
}

const T0 = new Date(0);
const accountRow = { id: "acct_bench", name: "bench", createdAt: T0, updatedAt: T0 };
const keyRow = { id: "key_bench", accountId: accountRow.id, name: "bench", role: "user" as const, lookup: "bench", keyHash: "hash-bench", createdAt: T0, updatedAt: T0 };
const RATES = { rpm: 1_000_000_000, tpm: 1_000_000_000 };
const BUDGET = { budgetPeriod: "day" as const, budgetTokens: 1_000_000_000_000 };
const limits = configSchema.parse({ limits: { concurrency: 64, account_concurrency: 0, queue_size: 64 } }).limits;

let requests = 0;
const event = (key: ApiKeyRow, queueMs: number): UsageEvent => ({
  id: `req_${++requests}`, keyId: key.id, accountId: key.accountId, endpoint: "POST /v1/chat/completions", model: "bench",
  startedAt: new Date(), queueMs, ttftMs: 1, durationMs: 2, promptTokens: 6, cachedTokens: 0,
  completionTokens: 1, draftTokensAccepted: null, costMicros: 0, status: 200, errorCode: null, clientIp: null,
});

async function oneRequest(node: Node, key: ApiKeyRow, account: AccountRow): Promise<void> {
  await node.lookupKey();
  const admitted = await node.admission.admit({ key, account });
  admitted.lease.release();
  admitted.recordTokens(7);
  await node.usage.record(event(key, admitted.lease.queuedMs));
}

async function measure(nodes: readonly Node[], key: ApiKeyRow, account: AccountRow, options: { calls: number; concurrency: number }) {
  for (let i = 0; i < 50; i++) await oneRequest(nodes[i % nodes.length]!, key, account);
  const latencies: number[] = [];
  let failures = 0;
  for (let i = 0; i < options.calls; i++) {
    const started = performance.now();
    await oneRequest(nodes[i % nodes.length]!, key, account).catch(() => failures++);
    latencies.push(performance.now() - started);
  }
  let left = options.calls;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: options.concurrency }, async (_, caller) => {
      while (left-- > 0) await oneRequest(nodes[caller % nodes.length]!, key, account).catch(() => failures++);
    }),
  );
  return { p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), requestsPerSecond: options.calls / ((performance.now() - started) / 1000), failures };
}

/** SQLite, then Postgres: the same requests, limits and measurements on each. */
export async function benchLimitsOnStores(options: { databaseUrl: string; calls: number; concurrency: number }): Promise<StoreBenchRow[]> {
  const rows: StoreBenchRow[] = [];
  const account = { ...accountRow, parentId: null, concurrency: null, budgetPeriod: null, budgetTokens: null, budgetCostMicros: null, creditsMicros: null, allowedRegions: null, deletedAt: null };
  using sqlite = tempStore("enclave-bench-limits-");
  sqlite.db.insert(lite.accounts).values(accountRow).run();
  sqlite.db.insert(lite.apiKeys).values(keyRow).run();
  const key = sqlite.db.select().from(lite.apiKeys).where(eq(lite.apiKeys.id, keyRow.id)).get()!;
  const variants: [string, ApiKeyRow][] = [
    ["defaults (concurrency caps)", key],
    ["rpm + tpm", { ...key, ...RATES }],
    ["rpm + tpm + daily token budget", { ...key, ...RATES, ...BUDGET }],
  ];

  const usage = createSqliteUsageRepository(sqlite.db);
  const sqliteNode: Node = {
    lookupKey: async () => sqlite.db.select().from(lite.apiKeys).where(eq(lite.apiKeys.lookup, keyRow.lookup)).get(),
    admission: createAdmission({ limits, currency: "USD", accounts: createSqliteAccountRepository(sqlite.db), usage }),
    usage,
  };
  for (const [name, variantKey] of variants) {
    rows.push({ store: "sqlite", limits: name, ...(await measure([sqliteNode], variantKey, account, options)) });
    console.error(`  sqlite, ${name}: done`);
  }

  await using store = await pgLimitsStore(options.databaseUrl);
  const seed = store.node();
  await seed.insert(pg.accounts).values(accountRow);
  await seed.insert(pg.apiKeys).values(keyRow);
  const limiters: ReturnType<typeof createPgConcurrencyLimiter>[] = [];
  const pgNode = (db: PgDb): Node => {
    const limiter = createPgConcurrencyLimiter({ db });
    limiters.push(limiter);
    const pgUsage = createPgUsageRepository(db);
    return {
      lookupKey: () => db.select().from(pg.apiKeys).where(eq(pg.apiKeys.lookup, keyRow.lookup)),
      admission: createAdmission({ limits, currency: "USD", accounts: createPgAccountRepository(db), usage: pgUsage, limiter, windows: { requests: createPgRateWindows(db, "requests"), tokens: createPgRateWindows(db, "tokens") } }),
      usage: pgUsage,
    };
  };
  const nodes = [pgNode(store.node()), pgNode(store.node())];
  for (const [name, variantKey] of variants) {
    rows.push({ store: "postgres", limits: name, ...(await measure(nodes, variantKey, account, options)) });
    console.error(`  postgres, ${name}: done`);
  }
  for (const limiter of limiters) await limiter[Symbol.asyncDispose]();
  return rows;
}

export function printStoreRows(rows: readonly StoreBenchRow[], concurrency: number): void {
  console.table(
    rows.map((row) => ({
      store: row.store,
      limits: row.limits,
      "p50 ms": fixed(row.p50Ms, 2),
      "p99 ms": fixed(row.p99Ms, 2),
      [`req/s (${concurrency} callers)`]: fixed(row.requestsPerSecond, 0),
      failures: row.failures,
    })),
  );
}
