import { afterEach, describe, expect, test } from "bun:test";
import { tempStore } from "../../support/temp-store";
import type { Store } from "../../../src/db/client";
import pino from "pino";
import { usageEvents, type UsageEventRow } from "../../../src/db/schema";
import { createPayloadStore } from "../../../src/privacy/payload-store";
import { createPurgeJob } from "../../../src/privacy/purge-job";
import { startPurgeSchedule, type Timers } from "../../../src/privacy/purge-schedule";
import { createSqlitePayloadRepository } from "../../../src/store/sqlite-payload-repository";
import type { PayloadDecision } from "../../../src/privacy/payload-policy";
import { createRetentionKey } from "../../../src/privacy/retention-key";
import { configSchema } from "../../../src/config/schema";

/** `[retention]` at its defaults: zero data retention. */
const ZDR_RETENTION = configSchema.parse({}).retention;

type Kept = Exclude<PayloadDecision, { mode: "none" }>;
const DAY = 86_400_000;
const T0 = Date.parse("2026-05-01T10:00:00Z");
const key = createRetentionKey(new Uint8Array(32).fill(3));
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function freshStore(): Store {
  const store = tempStore("enclave-purge-");
  cleanups.push(() => store[Symbol.dispose]());
  return store;
}

function usageRow(id: string, startedAt: number, extra: Partial<UsageEventRow> = {}): UsageEventRow {
  return {
    id,
    keyId: "key_a",
    accountId: "acct_a",
    endpoint: "POST /v1/chat/completions",
    model: "fake",
    startedAt: new Date(startedAt),
    queueMs: 1,
    ttftMs: 2,
    durationMs: 3,
    promptTokens: 10,
    cachedTokens: 0,
    completionTokens: 5,
    draftTokensAccepted: null,
    costMicros: 7,
    status: 200,
    errorCode: null,
    clientIp: "203.0.113.9",
    ...extra,
  };
}

const count = (store: Store, table: string) => (store.sqlite.query(`select count(*) as n from ${table}`).get() as { n: number }).n;

describe("purge windows (injected clock)", () => {
  test("Should delete a payload only once its window has passed - policy rows also when payload_days is shortened", async () => {
    const store = freshStore();
    let clock = T0;
    const payloads = createPayloadStore({ payloads: createSqlitePayloadRepository(store.db), key, now: () => clock });
    const policy: Kept = { mode: "anonymized", basis: "policy", purposes: [], days: 30, consentId: null };
    const consented: Kept = { mode: "full", basis: "consent", purposes: ["draft_training"], days: 60, consentId: "cns_1" };
    await payloads.capture(policy, { requestId: "r1", model: "fake", subject: null }, { kind: "embedding", inputs: ["a"] });
    await payloads.capture(consented, { requestId: "r2", model: "fake", subject: { accountId: "acct_a", keyId: "key_a" } }, { kind: "embedding", inputs: ["b"] });
    const job = (retention = { ...ZDR_RETENTION, metadata_detail_days: 90 }) => createPurgeJob({ payloads: createSqlitePayloadRepository(store.db, store.sqlite), retention, key, now: () => clock });

    clock = T0 + 30 * DAY - 1;
    expect((await job().run()).payloads_deleted).toBe(0);
    clock = T0 + 30 * DAY;
    expect((await job().run({ dryRun: true })).payloads_deleted).toBe(1);
    expect(count(store, "retained_payloads")).toBe(2); // a dry run only counts
    expect((await job().run()).payloads_deleted).toBe(1);
    clock = T0 + 59 * DAY;
    expect((await job().run()).payloads_deleted).toBe(0); // the consent's own window is 60 days
    clock = T0 + 60 * DAY;
    expect((await job().run()).payloads_deleted).toBe(1);

    // Shortening payload_days applies to rows kept under the policy at once.
    clock = T0 + 100 * DAY;
    await payloads.capture(policy, { requestId: "r3", model: "fake", subject: null }, { kind: "embedding", inputs: ["c"] });
    clock += 5 * DAY;
    expect((await job({ ...ZDR_RETENTION, payload_days: 5 }).run()).payloads_deleted).toBe(1);
  });

  test("Should drop client IPs after security_days and fold request rows older than metadata_detail_days into daily aggregates", async () => {
    const store = freshStore();
    store.db
      .insert(usageEvents)
      .values([
        usageRow("old-1", T0 - 100 * DAY),
        usageRow("old-2", T0 - 100 * DAY + 3600_000, { status: 500, errorCode: "engine_error" }),
        usageRow("old-3", T0 - 95 * DAY, { model: null, status: 404 }),
        usageRow("mid", T0 - 40 * DAY),
        usageRow("new", T0 - 1 * DAY),
      ])
      .run();
    const job = createPurgeJob({ payloads: createSqlitePayloadRepository(store.db, store.sqlite), retention: ZDR_RETENTION, key: null, now: () => T0, logger: pino({ level: "silent" }) });
    const dry = await job.run({ dryRun: true });
    expect(dry).toMatchObject({ dry_run: true, usage_rows_rolled_up: 3, client_ips_cleared: 4, space: null });
    expect(count(store, "usage_events")).toBe(5);

    const report = await job.run();
    expect(report).toMatchObject({ dry_run: false, usage_rows_rolled_up: 3, client_ips_cleared: 4, payloads_deleted: 0 });
    expect(report.space?.wal).toBe("truncated");
    const left = store.sqlite.query("select id, client_ip from usage_events order by started_at").all();
    expect(left).toEqual([
      { id: "mid", client_ip: null },
      { id: "new", client_ip: "203.0.113.9" },
    ]);
    const daily = store.sqlite.query("select * from usage_daily order by day, model").all();
    expect(daily).toEqual([
      { day: "2026-01-21", account_id: "acct_a", key_id: "key_a", endpoint: "POST /v1/chat/completions", model: "fake", requests: 2, errors: 1, prompt_tokens: 20, completion_tokens: 10, draft_tokens_accepted: 0, cost_micros: 14 },
      { day: "2026-01-26", account_id: "acct_a", key_id: "key_a", endpoint: "POST /v1/chat/completions", model: "", requests: 1, errors: 1, prompt_tokens: 10, completion_tokens: 5, draft_tokens_accepted: 0, cost_micros: 7 },
    ]);
    // Only whole UTC days are folded: a row 89.9 days old stays until its day has passed entirely.
    expect(await job.run()).toMatchObject({ usage_rows_rolled_up: 0, client_ips_cleared: 0, space: null });
    // The purge audits what it did, and only when it did something.
    expect(store.sqlite.query("select action, actor from audit_log").all()).toEqual([{ action: "retention.purge", actor: "system:retention" }]);
  });

  test("Should report each run that is not a dry run with the rows it removed - folded request rows counted, cleared IPs not", async () => {
    const store = freshStore();
    store.db.insert(usageEvents).values([usageRow("old-1", T0 - 100 * DAY), usageRow("old-2", T0 - 99 * DAY), usageRow("mid", T0 - 40 * DAY)]).run();
    const reported: number[] = [];
    const job = createPurgeJob({ payloads: createSqlitePayloadRepository(store.db, store.sqlite), retention: ZDR_RETENTION, key: null, now: () => T0, onPurged: (rows) => reported.push(rows) });
    await job.run({ dryRun: true });
    expect(reported).toEqual([]);
    expect(await job.run()).toMatchObject({ usage_rows_rolled_up: 2, client_ips_cleared: 3 });
    await job.run();
    expect(reported).toEqual([2, 0]);
  });

  test("Should run on a schedule and stop when disposed - the next run timed from the end of the last", async () => {
    const store = freshStore();
    const pending: { callback: () => void | Promise<void>; ms: number }[] = [];
    const timers: Timers = { setTimeout: (callback, ms) => pending.push({ callback, ms }) - 1, clearTimeout: (handle) => void pending.splice(handle as number, 1) };
    let runs = 0;
    const job = createPurgeJob({ payloads: createSqlitePayloadRepository(store.db, store.sqlite), retention: ZDR_RETENTION, key: null });
    const schedule = startPurgeSchedule({ job: { run: (options) => (runs++, job.run(options)) }, intervalMs: 3_600_000, logger: pino({ level: "silent" }), timers });
    expect(pending.map((entry) => entry.ms)).toEqual([0]);
    const tick = pending.shift()!.callback();
    expect(runs).toBe(1);
    expect(pending).toEqual([]);
    await tick;
    expect(pending.map((entry) => entry.ms)).toEqual([3_600_000]);
    schedule[Symbol.dispose]();
    expect(pending).toEqual([]);
  });
});
