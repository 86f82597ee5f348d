import { isAbsolute, resolve } from "node:path";
import type { Config } from "./schema";

/**
 * The config with every file and directory setting made absolute, so the server and each CLI
 * command name the same files wherever they run from. A path written in the file, or left at its
 * default, is relative to the config file's directory (the store lives beside its config unless
 * it says otherwise); one from an environment variable is relative to the working directory, as
 * a shell user expects. Without a config file both bases are the working directory.
 */
export function resolveConfigPaths(config: Config, bases: { file: string; env: string }, fromEnv: ReadonlyMap<string, string>): Config {
  const at = (key: string, path: string) => (path === "" || isAbsolute(path) ? path : resolve(fromEnv.has(key) ? bases.env : bases.file, path));
  const { server, storage, retention, residency } = config;
  return {
    ...config,
    server: server.tls ? { ...server, tls: { cert: at("server.tls.cert", server.tls.cert), key: at("server.tls.key", server.tls.key) } } : server,
    storage: { ...storage, data_dir: at("storage.data_dir", storage.data_dir) },
    retention: { ...retention, payload_key_file: at("retention.payload_key_file", retention.payload_key_file) },
    residency: { ...residency, allowed_paths: residency.allowed_paths.map((path) => at("residency.allowed_paths", path)) },
    models: config.models.map((model) => ({
      ...model,
      path: at("models.path", model.path),
      ...(model.draft && { draft: { ...model.draft, path: at("models.draft.path", model.draft.path) } }),
    })),
  };
}
