import { Database } from "bun:sqlite";
import { closeSync, existsSync, openSync, renameSync, statSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_BUSY_TIMEOUT_MS, STORE_FILE_NAME } from "./client";
import { BackupError } from "./backup-error";
import { DataDirError } from "./data-dir-error";

export interface BackupResult {
  path: string;
  bytes: number;
}

/**
 * Writes a consistent copy of the store in `dataDir` to `outPath` while a server may be writing
 * it. `VACUUM INTO` runs in one read transaction, so the copy is the store as of one commit (the
 * WAL's newest committed frames included) and a compact, WAL-free file. The store is opened
 * read-only and the data-dir lock is not taken: backing up never stops or blocks the server.
 *
 * The copy is written under a temporary name beside `outPath`, created 0600 (it holds what the
 * store holds: key hashes, metering, the audit log, and, under retention, encrypted payloads),
 * and renamed into place only when complete; an existing `outPath` is never overwritten.
 */
export function backupStore(dataDir: string, outPath: string): BackupResult {
  const source = join(dataDir, STORE_FILE_NAME);
  if (!existsSync(source)) throw new DataDirError(`no store at ${source}: nothing to back up (is data_dir right for this config?)`, dataDir);
  if (existsSync(outPath)) throw new BackupError(`${outPath} exists; backup writes a new file and never overwrites one`);
  const partial = `${outPath}.partial-${process.pid}`;
  try {
    closeSync(openSync(partial, "wx", 0o600));
  } catch (error) {
    throw new BackupError(`cannot create ${partial} (${(error as { code?: string }).code ?? "error"}): backup needs write permission on the directory of ${outPath}`);
  }
  try {
    const db = new Database(source, { readonly: true });
    try {
      db.exec(`PRAGMA busy_timeout = ${DEFAULT_BUSY_TIMEOUT_MS}`);
      // VACUUM INTO accepts an empty existing file, so the 0600 one made above is what it fills.
      db.query("VACUUM INTO ?").run(partial);
    } finally {
      db.close();
    }
    renameSync(partial, outPath);
  } catch (error) {
    unlinkQuietly(partial);
    throw error;
  }
  return { path: outPath, bytes: statSync(outPath).size };
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
