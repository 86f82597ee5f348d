/**
 * What the repositories cost per call on each backend: a usage row (insert, key last-used,
 * credits), an audit append (chain lock, head read, insert) and a key change (account tree lock,
 * the checks' reads, update, audit append), one at a time and from two handles at once (two nodes
 * on Postgres; the server and the CLI on SQLite), plus a budget read and authentication's key lookup.
 * Postgres runs only with --database-url (a server where the bench may create a database).
 */
import { percentile } from "./bench-support";
import { cliActor } from "../src/accounts/actor";
import type { UsageEvent } from "../src/metering/usage-recorder";
import { postgresBackend, sqliteBackend, type StoreBackend } from "../test/store/store-backends";
import { numberArg, scriptArgs } from "./script-args";

const values = scriptArgs("bench:store", "bun run bench:store [--database-url postgres://...] [--calls 400] [--concurrency 8]", {
  "database-url": { type: "string" },
  calls: { type: "string", default: "400" },
  concurrency: { type: "string", default: "8" },
});
const calls = numberArg("calls", values.calls);
const concurrency = numberArg("concurrency", values.concurrency);

let n = 0;
const event = (): UsageEvent => ({
  id: `req_${++n}`, keyId: "key_a", accountId: "acct_a", endpoint: "POST /v1/chat/completions", model: "tiny",
  startedAt: new Date(), queueMs: 0, ttftMs: 1, durationMs: 2, promptTokens: 3, cachedTokens: 0,
  completionTokens: 4, draftTokensAccepted: null, costMicros: 1, status: 200, errorCode: null, clientIp: null,
});

/** Latency of each call run one after another, and throughput with `concurrency` callers spread over two handles. */
async function measure(label: string, call: (node: 0 | 1) => Promise<unknown>) {
  const latencies: number[] = [];
  for (let i = 0; i < calls; i++) {
    const start = performance.now();
    await call(0);
    latencies.push(performance.now() - start);
  }
  const start = performance.now();
  let left = calls;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (left-- > 0) await call((worker % 2) as 0 | 1);
    }),
  );
  const perSecond = calls / ((performance.now() - start) / 1000);
  return { label, p50: percentile(latencies, 50), p99: percentile(latencies, 99), perSecond };
}

async function bench(name: string, store: StoreBackend) {
  await store.seedAccount({ id: "acct_a", creditsMicros: 1_000_000_000 });
  await store.seedKey({ id: "key_a", accountId: "acct_a" });
  const nodes = [store, store.otherNode()] as const;
  const rows = [
    await measure("usage.record", (node) => nodes[node].usage.record(event())),
    await measure("audit.append", (node) => nodes[node].audit.append({ actor: "cli:bench", action: "key.update", target: "key_a" }, new Date())),
    await measure("usage.spent", (node) => nodes[node].usage.spent({ keyIds: ["key_a"], since: Date.now() - 86_400_000 })),
    await measure("keys.byLookup", (node) => nodes[node].keys.byLookup("key_a")),
    await measure("keys.change", (node) =>
      nodes[node].keys.change({ actor: cliActor("bench"), keyId: "key_a" }, () => ({
        at: new Date(),
        write: { update: { rpm: ++n } },
        audit: { actor: "cli:bench", action: "key.update", target: "key_a" },
      })),
    ),
  ];
  const verified = await store.audit.verify(null);
  for (const row of rows)
    console.log(`${name.padEnd(9)} ${row.label.padEnd(13)} p50 ${row.p50.toFixed(2).padStart(6)} ms  p99 ${row.p99.toFixed(2).padStart(6)} ms  ${row.perSecond.toFixed(0).padStart(6)}/s with ${concurrency} callers`);
  console.log(`${name.padEnd(9)} audit chain after concurrent appends: ${verified.ok ? "verifies" : "BROKEN"} (${verified.entries} entries)`);
}

console.log(`${calls} calls each; one at a time for latency, then ${concurrency} at once over two handles for throughput`);
{
  await using store = sqliteBackend();
  await bench("sqlite", store);
}
if (values["database-url"] != null) {
  await using store = await postgresBackend(values["database-url"]);
  await bench("postgres", store);
}
