import { closeSync, existsSync, mkdirSync, openSync, unlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { DataDirError } from "./data-dir-error";

/**
 * Creates the data dir if needed (owner only) and proves it writable by creating and removing a
 * file in it: permission bits alone do not tell (root ignores them; a read-only mount does not).
 * A failure is one DataDirError line naming the directory and what enclave needs there.
 */
export function prepareDataDir(dataDir: string): void {
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    const code = codeOf(error);
    if (code === "ENOTDIR" || code === "EEXIST")
      throw new DataDirError(`data dir ${dataDir} cannot be created (${code}): a part of its path is a file, not a directory; enclave needs a directory there with read, write and execute permission`, dataDir);
    const parent = nearestExisting(dataDir);
    throw new DataDirError(`data dir ${dataDir} cannot be created (${code}): enclave needs write and execute permission on ${parent}, or create ${dataDir} for it`, dataDir);
  }
  const probe = join(dataDir, `.enclave-write-probe-${process.pid}`);
  try {
    closeSync(openSync(probe, "wx", 0o600));
    unlinkSync(probe);
  } catch (error) {
    const code = codeOf(error);
    if (code === "EEXIST") return unlinkQuietly(probe);
    throw new DataDirError(`data dir ${dataDir} is not writable (${code}): enclave needs read, write and execute permission on it`, dataDir);
  }
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" ? code : "error";
}

function nearestExisting(path: string): string {
  let current = dirname(path);
  while (!existsSync(current) && dirname(current) !== current) current = dirname(current);
  return current;
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // a leftover of an earlier probe; the dir was writable enough to create it
  }
}
