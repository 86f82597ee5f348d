import os from "node:os";
import path from "node:path";

/**
 * Where versioned runtime directories are unpacked: `$ENCLAVE_RUNTIME_DIR`, else the user's cache
 * directory. Read from the environment directly because it is needed before the app, and so the
 * config loader, exists.
 */
export function runtimeBaseDir(env: Record<string, string | undefined>): string {
  if (env.ENCLAVE_RUNTIME_DIR) return path.resolve(env.ENCLAVE_RUNTIME_DIR);
  const cacheHome = env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  return path.join(cacheHome, "enclave", "runtime");
}
