import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { nodeLlamaCppRootGlobal } from "../bundle/node-llama-cpp-root";
import type { Config } from "../config/schema";
import type { ResidencyPaths } from "./residency-violations";

/** Where temp files go: inside the data dir, so they fall under the same residency as the store. */
export function residencyTempDir(config: Pick<Config, "storage">): string {
  return resolve(join(config.storage.data_dir, "tmp"));
}

/** The compiled binary's unpacked llama.cpp runtime; null when running from source (nothing is unpacked). */
export function runtimeDir(): string | null {
  return ((globalThis as Record<string, unknown>)[nodeLlamaCppRootGlobal] as string | undefined) ?? null;
}

/** Every directory Enclave writes to besides the data dir itself. */
export function writtenPaths(config: Pick<Config, "storage">): ResidencyPaths {
  const runtime = runtimeDir();
  return {
    written: [
      { key: "runtime cache (ENCLAVE_RUNTIME_DIR)", path: runtime ?? "" },
      { key: "temp files (TMPDIR)", path: residencyTempDir(config) },
    ].filter((entry) => entry.path !== ""),
  };
}

/**
 * Points temp files of this process and of libraries it loads into the data dir. Done once at
 * start-up, before the engine loads, because libraries read TMPDIR when they first need it.
 */
export function confineTempFiles(config: Pick<Config, "storage">): string {
  const dir = residencyTempDir(config);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  process.env.TMPDIR = dir;
  return dir;
}
