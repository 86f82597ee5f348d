import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { appendAudit } from "../../../src/audit/append-audit";
import { backupStore } from "../../../src/db/backup-store";
import { BackupError } from "../../../src/db/backup-error";
import { openStore, STORE_FILE_NAME, type Store } from "../../../src/db/client";
import { DataDirError } from "../../../src/db/data-dir-error";
import { LOCK_FILE_NAME, lockDataDir } from "../../../src/db/data-dir-lock";
import { inspectBackup } from "../../../src/db/inspect-backup";
import { migrate } from "../../../src/db/migrate";
import { restoreStore } from "../../../src/db/restore-store";

const open: Store[] = [];
afterEach(() => open.splice(0).forEach((store) => store[Symbol.dispose]()));

function serverStore(): { dataDir: string; store: Store } {
  const dataDir = join(mkdtempSync(join(tmpdir(), "enclave-backup-")), "data");
  const store = openStore(dataDir);
  migrate(store);
  open.push(store);
  return { dataDir, store };
}

const audit = (store: Store, target: string) => store.db.transaction((tx) => appendAudit(tx, { actor: "cli:test", action: "key.create", target }, new Date()));
const targets = (file: string) => {
  const db = new Database(file, { readonly: true });
  try {
    return (db.query("select target from audit_log order by seq").all() as { target: string }[]).map((row) => row.target);
  } finally {
    db.close();
  }
};

function refusal(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a refusal");
}

describe("backupStore", () => {
  test("Should copy the store as of its last commit while a server holds the lock and its writes sit in the WAL - as a 0600 file that inspects sound", () => {
    const { dataDir, store } = serverStore();
    using _server = lockDataDir(dataDir);
    audit(store, "first");
    audit(store, "second");
    expect(statSync(join(dataDir, `${STORE_FILE_NAME}-wal`)).size).toBeGreaterThan(0);

    const out = join(dataDir, "..", "backup.sqlite");
    const result = backupStore(dataDir, out);

    expect(result.bytes).toBe(statSync(out).size);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(targets(out)).toEqual(["first", "second"]);
    expect(inspectBackup(out, null).audit).toMatchObject({ ok: true, entries: 2 });
    // The server keeps writing: the backup did not hold a lock.
    audit(store, "third");
    expect(readdirSync(join(dataDir, ".."))).toEqual(expect.not.arrayContaining([expect.stringContaining(".partial-")]));
  });

  test("Should refuse to overwrite an existing file - a backup never replaces another", () => {
    const { dataDir } = serverStore();
    const out = join(dataDir, "..", "taken.sqlite");
    writeFileSync(out, "keep me");
    expect(refusal(() => backupStore(dataDir, out))).toBeInstanceOf(BackupError);
  });
});

describe("restoreStore", () => {
  function backupWith(entries: string[]): string {
    const { dataDir, store } = serverStore();
    for (const entry of entries) audit(store, entry);
    const out = join(dataDir, "..", "backup.sqlite");
    backupStore(dataDir, out);
    return out;
  }

  test("Should replace the store with the backup and keep the replaced one aside - the old WAL is not replayed onto it", () => {
    const file = backupWith(["from-backup"]);
    const { dataDir, store } = serverStore();
    audit(store, "live-only");
    store[Symbol.dispose]();

    const result = restoreStore(dataDir, file, null);

    expect(result.audit).toMatchObject({ ok: true, entries: 1 });
    expect(targets(join(dataDir, STORE_FILE_NAME))).toEqual(["from-backup"]);
    expect(result.previous).not.toBeNull();
    expect(targets(result.previous!)).toEqual(["live-only"]);
    expect(existsSync(join(dataDir, `${STORE_FILE_NAME}-wal`))).toBe(false);
    expect(existsSync(join(dataDir, LOCK_FILE_NAME))).toBe(false);
  });

  test("Should refuse while a server holds the data dir - naming its pid and leaving the store as it was", () => {
    const file = backupWith(["from-backup"]);
    const { dataDir, store } = serverStore();
    audit(store, "live");
    const server = Bun.spawn(["sleep", "30"]);
    try {
      writeFileSync(join(dataDir, LOCK_FILE_NAME), `${server.pid}\n`);
      const error = refusal(() => restoreStore(dataDir, file, null));
      expect(error).toBeInstanceOf(DataDirError);
      expect(error.message).toContain(`pid ${server.pid}`);
      expect(targets(join(dataDir, STORE_FILE_NAME))).toEqual(["live"]);
    } finally {
      server.kill();
    }
  });

  const badBackups: [string, (dir: string) => string, RegExp][] = [
    ["a file that is not SQLite", (dir) => (writeFileSync(join(dir, "notes.txt"), "hello"), join(dir, "notes.txt")), /not an SQLite database/],
    [
      "an SQLite file without Enclave's tables",
      (dir) => {
        const db = new Database(join(dir, "other.sqlite"));
        db.run("create table t (x)");
        db.close();
        return join(dir, "other.sqlite");
      },
      /not an Enclave store/,
    ],
    [
      "a backup whose audit log was edited",
      (dir) => {
        const file = backupWith(["a", "b"]);
        const db = new Database(file);
        // An attacker with the file drops the append-only trigger first.
        db.run("drop trigger audit_log_no_update");
        db.run("update audit_log set target = 'forged' where seq = 1");
        db.close();
        return file;
      },
      /audit log that does not verify/,
    ],
    [
      "a backup from a newer Enclave (a migration this binary lacks)",
      (dir) => {
        const file = backupWith([]);
        const db = new Database(file);
        db.run(`insert into "__drizzle_migrations" (hash, created_at) values ('f00', 9999999999999)`);
        db.close();
        return file;
      },
      /does not know \(from a newer version\?\)/,
    ],
  ];

  test.each(badBackups)("Should refuse %s - and leave the live store untouched", (_, make, reason) => {
    const { dataDir, store } = serverStore();
    audit(store, "live");
    const file = make(join(dataDir, ".."));
    const error = refusal(() => restoreStore(dataDir, file, null));
    expect(error).toBeInstanceOf(BackupError);
    expect(error.message).toMatch(reason);
    expect(targets(join(dataDir, STORE_FILE_NAME))).toEqual(["live"]);
    expect(readdirSync(dataDir).filter((name) => name.includes("before-restore") || name.includes("restoring"))).toEqual([]);
  });
});
