import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DataDirError } from "../../../src/db/data-dir-error";
import { LOCK_FILE_NAME, lockDataDir } from "../../../src/db/data-dir-lock";

const freshDir = () => join(mkdtempSync(join(tmpdir(), "enclave-lock-")), "data");

/** The pid of a process that has exited: no process runs under it now (pids are not reused this fast). */
async function deadPid(): Promise<number> {
  const child = Bun.spawn(["true"]);
  await child.exited;
  return child.pid;
}

describe("lockDataDir", () => {
  test("Should hold the lock with this pid and remove it on dispose - leaving nothing else in the data dir", () => {
    const dir = freshDir();
    {
      using _lock = lockDataDir(dir);
      expect(readFileSync(join(dir, LOCK_FILE_NAME), "utf8")).toBe(`${process.pid}\n`);
      expect(readdirSync(dir)).toEqual([LOCK_FILE_NAME]);
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  test("Should refuse a second server naming the first one's pid - while that process runs", () => {
    const dir = freshDir();
    const holder = Bun.spawn(["sleep", "30"]);
    try {
      lockDataDir(dir)[Symbol.dispose]();
      writeFileSync(join(dir, LOCK_FILE_NAME), `${holder.pid}\n`);
      let refused: unknown;
      try {
        lockDataDir(dir);
      } catch (error) {
        refused = error;
      }
      expect(refused).toBeInstanceOf(DataDirError);
      expect((refused as Error).message).toContain(`in use by another enclave serve (pid ${holder.pid})`);
      expect(readFileSync(join(dir, LOCK_FILE_NAME), "utf8")).toBe(`${holder.pid}\n`);
    } finally {
      holder.kill("SIGKILL");
    }
  });

  test("Should take over a stale lock - its server was killed and its pid no longer runs", async () => {
    const dir = freshDir();
    lockDataDir(dir)[Symbol.dispose]();
    writeFileSync(join(dir, LOCK_FILE_NAME), `${await deadPid()}\n`);
    using _lock = lockDataDir(dir);
    expect(readFileSync(join(dir, LOCK_FILE_NAME), "utf8")).toBe(`${process.pid}\n`);
  });

  test("Should take over a lock that holds garbage - a crash between create and write cannot wedge the dir", () => {
    const dir = freshDir();
    lockDataDir(dir)[Symbol.dispose]();
    writeFileSync(join(dir, LOCK_FILE_NAME), "");
    using _lock = lockDataDir(dir);
    expect(readFileSync(join(dir, LOCK_FILE_NAME), "utf8")).toBe(`${process.pid}\n`);
  });

  test("Should not remove a lock it does not hold - on dispose after another server took it over", () => {
    const dir = freshDir();
    const lock = lockDataDir(dir);
    writeFileSync(join(dir, LOCK_FILE_NAME), "999999999\n");
    lock[Symbol.dispose]();
    expect(existsSync(join(dir, LOCK_FILE_NAME))).toBe(true);
  });
});
