/**
 * A node that takes one concurrency slot and then only heartbeats: the fleet test kills it with
 * SIGKILL, as an operator's kill -9 or a crash would, to see its lease come back by expiry.
 *
 *   bun test/support/lease-holder.ts DATABASE_URL LEASE_EXPIRY_MS
 */
import { openPgStore } from "../../src/db/pg-client";
import { createPgConcurrencyLimiter } from "../../src/limits/pg-concurrency-limiter";

const [url, expiry] = process.argv.slice(2);
const store = openPgStore(url!);
const limiter = createPgConcurrencyLimiter({ db: store.db, nodeId: "doomed", leaseExpiryMs: Number(expiry) });
await limiter.acquire({ keyId: "k", keyLimit: 1, accountId: "a", accountLimit: 0, queueSize: 4, maxWaitMs: 1_000 });
console.log("held");
// The limiter's timers are unref'd: this keeps the process (and its heartbeat) alive until killed.
setInterval(() => {}, 1_000);
