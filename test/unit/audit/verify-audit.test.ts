import { afterEach, describe, expect, test } from "bun:test";
import { tempStore } from "../../support/temp-store";
import type { Store } from "../../../src/db/client";
import { appendAudit, auditHash } from "../../../src/audit/append-audit";
import { verifyAudit } from "../../../src/audit/verify-audit";
import { listAudit, AuditQuery } from "../../../src/audit/list-audit";
import { createPurgeJob } from "../../../src/privacy/purge-job";
import { createSqlitePayloadRepository } from "../../../src/store/sqlite-payload-repository";
import { createRetentionKey } from "../../../src/privacy/retention-key";
import { configSchema } from "../../../src/config/schema";

/** `[retention]` at its defaults: zero data retention. */
const ZDR_RETENTION = configSchema.parse({}).retention;

const DAY = 86_400_000;
const T0 = Date.parse("2026-01-01T00:00:00Z");
let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function freshStore(): Store {
  const store = tempStore("enclave-audit-");
  cleanups.push(() => store[Symbol.dispose]());
  return store;
}

function withEntries(count: number, stepMs = 1000): Store {
  const store = freshStore();
  for (let i = 1; i <= count; i++) appendAudit(store.db, { actor: "cli:test", action: i % 2 ? "key.create" : "account.update", target: `t${i}`, details: { i } }, new Date(T0 + i * stepMs));
  return store;
}

/** Tampering "behind the log's back": the append-only triggers are dropped first, as an attacker with the file would. */
function tamper(store: Store, statements: string[]) {
  store.sqlite.exec("DROP TRIGGER audit_log_no_update");
  store.sqlite.exec("DROP TRIGGER audit_log_no_delete");
  for (const statement of statements) store.sqlite.exec(statement);
}

describe("audit append-only", () => {
  test("Should refuse UPDATE and DELETE on audit entries - triggers in the store", () => {
    const store = withEntries(3);
    expect(() => store.sqlite.exec("UPDATE audit_log SET actor = 'x' WHERE seq = 2")).toThrow(/append-only/);
    expect(() => store.sqlite.exec("DELETE FROM audit_log WHERE seq = 2")).toThrow(/append-only/);
    expect(() => store.sqlite.exec("DELETE FROM audit_checkpoints")).not.toThrow(); // empty: nothing to refuse
    expect(verifyAudit(store.db).ok).toBe(true);
  });
});

describe("verifyAudit", () => {
  test("Should pass an untouched log and report its head", () => {
    const store = withEntries(5);
    const report = verifyAudit(store.db);
    expect(report).toMatchObject({ ok: true, entries: 5, first_seq: 1, last_seq: 5, checkpoint: null, problems: [] });
    expect(report.head_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  test("Should name the entry edited with an UPDATE behind its back", () => {
    const store = withEntries(5);
    tamper(store, [`UPDATE audit_log SET details = '{"i":99}' WHERE seq = 3`]);
    const report = verifyAudit(store.db);
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([{ seq: 3, kind: "edited", message: "entry seq 3 was edited: its fields no longer match its hash" }]);
  });

  test("Should name an edited entry whose hash was recomputed - the next entry still links to the original", () => {
    const store = withEntries(5);
    const row = store.sqlite.query("select * from audit_log where seq = 2").get() as { prev_hash: string; at: number };
    const forged = auditHash(row.prev_hash, { seq: 2, at: new Date(row.at), actor: "cli:mallory", action: "account.update", target: "t2", details: '{"i":2}' });
    tamper(store, [`UPDATE audit_log SET actor = 'cli:mallory', hash = '${forged}' WHERE seq = 2`]);
    expect(verifyAudit(store.db).problems).toEqual([{ seq: 2, kind: "edited", message: "entry seq 2 was edited and its hash recomputed; seq 3 still links to the original" }]);
  });

  test("Should name the entry removed with a DELETE behind its back", () => {
    const store = withEntries(5);
    tamper(store, ["DELETE FROM audit_log WHERE seq = 3"]);
    const report = verifyAudit(store.db);
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([{ seq: 3, kind: "deleted", message: "entry seq 3 is missing (deleted); seq 4 no longer links to the entry before it" }]);
  });

  test("Should notice the newest entries deleted - SQLite remembers the highest seq used", () => {
    const store = withEntries(5);
    tamper(store, ["DELETE FROM audit_log WHERE seq >= 4"]);
    expect(verifyAudit(store.db).problems).toEqual([{ seq: 4, kind: "deleted", message: "newest entry seq 4..5 is missing (deleted)" }]);
  });

  test("Should notice the oldest entries deleted without a checkpoint", () => {
    const store = withEntries(5);
    tamper(store, ["DELETE FROM audit_log WHERE seq <= 2"]);
    expect(verifyAudit(store.db).problems).toEqual([{ seq: 1, kind: "deleted", message: "entry seq 1..2 is missing (deleted); seq 3 no longer links to the entry before it" }]);
  });

  test("Should name reordered entries - each one's hash fits the position it was written at", () => {
    const store = withEntries(5);
    const columns = "at, actor, action, target, details, prev_hash, hash";
    tamper(store, [
      `CREATE TEMP TABLE swap AS SELECT seq, ${columns} FROM audit_log WHERE seq IN (2, 4)`,
      `UPDATE audit_log SET (${columns}) = (SELECT ${columns} FROM swap WHERE swap.seq = 6 - audit_log.seq) WHERE seq IN (2, 4)`,
    ]);
    const report = verifyAudit(store.db);
    expect(report.ok).toBe(false);
    expect(report.problems.filter((problem) => problem.kind === "reordered").map((problem) => problem.seq)).toEqual([2, 4]);
    expect(report.problems[0]!.message).toBe("the entry stored as seq 2 (account.update on t4) was written as seq 4");
  });
});

describe("audit retention with checkpoints", () => {
  test("Should remove entries older than audit_days behind a signed checkpoint, and the rest still verifies", async () => {
    const store = withEntries(6, DAY); // entries on days 1..6
    const key = createRetentionKey(new Uint8Array(32).fill(7));
    const job = createPurgeJob({ payloads: createSqlitePayloadRepository(store.db, store.sqlite), retention: { ...ZDR_RETENTION, audit_days: 3 }, key, now: () => T0 + 7 * DAY + 1 });
    const report = await job.run();
    // Entries of days 1..4 are more than 3 days old at day 7 (+1 ms); the purge audits itself as a new entry.
    expect(report).toMatchObject({ audit_entries_removed: 4, audit_checkpoint_seq: 4 });
    const verification = verifyAudit(store.db, key);
    expect(verification).toMatchObject({ ok: true, first_seq: 5, last_seq: 7, checkpoint: { seq: 4, signature: "valid" } });
    expect(listAudit(store.db, AuditQuery.parse({ limit: "1" }))[0]).toMatchObject({ seq: 7, action: "retention.purge", actor: "system:retention" });

    // The trigger still refuses removing an entry no checkpoint covers.
    expect(() => store.sqlite.exec("DELETE FROM audit_log WHERE seq = 5")).toThrow(/append-only/);
    // A checkpoint cannot be altered, and a forged one does not carry the key's signature.
    expect(() => store.sqlite.exec("UPDATE audit_checkpoints SET hash = 'x'")).toThrow(/append-only/);
    expect(verifyAudit(store.db, createRetentionKey(new Uint8Array(32).fill(8))).problems).toEqual([
      { seq: 4, kind: "checkpoint", message: "retention checkpoint at seq 4 has a signature that does not match the retention key" },
    ]);
  });

  test("Should continue the chain from the checkpoint when retention removed every entry", async () => {
    const store = withEntries(3, DAY);
    await createPurgeJob({ payloads: createSqlitePayloadRepository(store.db, store.sqlite), retention: { ...ZDR_RETENTION, audit_days: 1 }, key: null, now: () => T0 + 30 * DAY }).run();
    // The purge's own entry (seq 4) follows the checkpoint at seq 3.
    const report = verifyAudit(store.db);
    expect(report).toMatchObject({ ok: true, entries: 1, first_seq: 4, checkpoint: { seq: 3, signature: "unsigned" } });
    appendAudit(store.db, { actor: "cli:test", action: "key.create", target: "k" }, new Date(T0 + 31 * DAY));
    expect(verifyAudit(store.db)).toMatchObject({ ok: true, entries: 2, last_seq: 5 });
  });

  test("Should keep the audit log forever with audit_days = 0", async () => {
    const store = withEntries(3, DAY);
    const report = await createPurgeJob({ payloads: createSqlitePayloadRepository(store.db, store.sqlite), retention: { ...ZDR_RETENTION, audit_days: 0 }, key: null, now: () => T0 + 3650 * DAY }).run();
    expect(report.audit_entries_removed).toBe(0);
    expect(verifyAudit(store.db)).toMatchObject({ ok: true, entries: 3, checkpoint: null });
  });
});
