import { chmodSync, copyFileSync, existsSync, renameSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import type { CheckpointSigner } from "../audit/checkpoint-signer";
import { backupStore } from "./backup-store";
import { STORE_FILE_NAME } from "./client";
import { lockDataDir } from "./data-dir-lock";
import { inspectBackup, type BackupInspection } from "./inspect-backup";

export interface RestoreResult extends BackupInspection {
  /** Where the store it replaced was copied first; null when the data dir had none. */
  previous: string | null;
}

/**
 * Replaces the store in `dataDir` with the backup `file`, after inspectBackup proves it sound.
 * It takes the data-dir lock for the whole swap, so it refuses while `enclave serve` runs there
 * (DataDirError naming the pid), and no server can start halfway. The store it replaces is first
 * copied aside (`enclave.sqlite.before-restore-<time>`), then the backup is copied in under a
 * temporary name and renamed over it; the old WAL and shared-memory files go first, so none of
 * the old store's frames can be replayed onto the restored one. Migrations this binary has and
 * the backup lacks run at the next start, as after any upgrade.
 */
export function restoreStore(dataDir: string, file: string, key: CheckpointSigner | null, now: () => Date = () => new Date()): RestoreResult {
  using _lock = lockDataDir(dataDir);
  const inspection = inspectBackup(file, key);
  const target = join(dataDir, STORE_FILE_NAME);
  let previous: string | null = null;
  if (existsSync(target)) {
    previous = join(dataDir, `${STORE_FILE_NAME}.before-restore-${now().toISOString().replaceAll(":", "-")}`);
    backupStore(dataDir, previous);
  }
  const staged = join(dataDir, `.${STORE_FILE_NAME}.restoring-${process.pid}`);
  copyFileSync(file, staged);
  try {
    chmodSync(staged, 0o600);
    for (const suffix of ["-wal", "-shm"]) unlinkIfPresent(`${target}${suffix}`);
    renameSync(staged, target);
  } catch (error) {
    unlinkIfPresent(staged);
    throw error;
  }
  return { ...inspection, previous };
}

function unlinkIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as { code?: unknown }).code !== "ENOENT") throw error;
  }
}
