import { describe, expect, test } from "bun:test";
import { tempStore } from "../../support/temp-store";
import { appendAudit, auditHash, GENESIS_HASH } from "../../../src/audit/append-audit";
import { auditLog } from "../../../src/db/schema";

function freshStore() {
  return tempStore("enclave-audit-");
}

describe("audit log", () => {
  test("Should chain each entry to the previous one's hash", () => {
    using store = freshStore();
    const at = new Date("2030-01-01T00:00:00Z");
    const first = appendAudit(store.db, { actor: "cli:ops", action: "key.create", target: "key_1", details: { role: "admin" } }, at);
    const second = appendAudit(store.db, { actor: "key:key_1", action: "key.revoke", target: "key_2" }, at);
    expect(first).toMatchObject({ seq: 1, prevHash: GENESIS_HASH });
    expect(second).toMatchObject({ seq: 2, prevHash: first.hash });
    const rows = store.db.select().from(auditLog).orderBy(auditLog.seq).all();
    let prev = GENESIS_HASH;
    for (const row of rows) {
      expect(row.prevHash).toBe(prev);
      expect(auditHash(prev, row)).toBe(row.hash);
      prev = row.hash;
    }
  });

  test("Should detect an edited entry - its hash no longer matches", () => {
    using store = freshStore();
    const row = appendAudit(store.db, { actor: "cli:ops", action: "key.create", target: "key_1" }, new Date(0));
    expect(auditHash(row.prevHash, { ...row, target: "key_9" })).not.toBe(row.hash);
  });

  test("Should refuse UPDATE and DELETE at the storage layer - the log is append-only", () => {
    using store = freshStore();
    appendAudit(store.db, { actor: "cli:ops", action: "key.create", target: "key_1" }, new Date(0));
    expect(() => store.sqlite.exec("update audit_log set target = 'key_9'")).toThrow(/append-only/);
    expect(() => store.sqlite.exec("delete from audit_log")).toThrow(/append-only/);
    expect(store.db.select().from(auditLog).all()).toHaveLength(1);
  });
});
