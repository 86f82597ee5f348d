import { linkSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DataDirError } from "./data-dir-error";
import { prepareDataDir } from "./prepare-data-dir";

export const LOCK_FILE_NAME = "enclave.lock";

/**
 * Makes `enclave serve` the only server on its data dir: two servers on one store would each
 * count a key's limits on their own (a key capped at 3 ran 6 at once). The lock is a file holding
 * the server's pid, created atomically (a complete temp file hard-linked into place, which fails
 * if one exists). A lock whose pid no longer runs (the server was killed) is taken over; so is
 * one with this process's own pid (a container restarting as pid 1 again). Disposing removes it.
 *
 * Only serve takes it: the CLI's commands work beside a running server through SQLite's locks.
 */
export function lockDataDir(dataDir: string): Disposable {
  prepareDataDir(dataDir);
  const path = join(dataDir, LOCK_FILE_NAME);
  const mine = `${process.pid}\n`;
  const staged = join(dataDir, `.${LOCK_FILE_NAME}.${process.pid}`);
  writeFileSync(staged, mine, { mode: 0o600 });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(staged, path);
        break;
      } catch (error) {
        if ((error as { code?: unknown }).code !== "EEXIST" || attempt >= 5) throw error;
      }
      const holder = pidIn(path);
      if (holder != null && holder !== process.pid && isRunning(holder))
        throw new DataDirError(
          `data dir ${dataDir} is in use by another enclave serve (pid ${holder}); stop it first, or remove ${path} if no such server runs`,
          dataDir,
        );
      removeIfUnchanged(path, holder);
    }
  } finally {
    unlinkSync(staged);
  }
  let released = false;
  return {
    [Symbol.dispose]() {
      if (released) return;
      released = true;
      if (pidIn(path) === process.pid) removeIfUnchanged(path, process.pid);
    },
  };
}

function pidIn(path: string): number | null {
  try {
    const pid = Number(readFileSync(path, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as { code?: unknown }).code === "EPERM";
  }
}

/** Removes a stale lock, unless another starter has put its own there since it was read. */
function removeIfUnchanged(path: string, holder: number | null): void {
  if (pidIn(path) !== holder) return;
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as { code?: unknown }).code !== "ENOENT") throw error;
  }
}
