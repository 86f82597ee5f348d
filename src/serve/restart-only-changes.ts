import type { Config } from "../config/schema";

/**
 * Settings read once at start-up: the listener, the store, llama.cpp itself, the keys' hashes,
 * residency enforcement, logging, the served routes. A reload cannot apply them.
 */
const RESTART_ONLY = [
  "server.host",
  "server.port",
  "server.tls",
  "storage.data_dir",
  "engine.gpu",
  "engine.max_threads",
  "auth.pepper",
  "logging",
  "metrics.enabled",
  "metrics.path",
  "ui.enabled",
  "pricing.currency",
  "retention.purge_interval_minutes",
  "retention.payload_key",
  "retention.payload_key_file",
  "residency",
] as const;

/** The restart-only settings whose value differs between `running` and `next`, as dotted keys. */
export function restartOnlyChanges(running: Readonly<Config>, next: Readonly<Config>): string[] {
  const at = (config: Readonly<Config>, key: string) => key.split(".").reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], config);
  return RESTART_ONLY.filter((key) => JSON.stringify(at(running, key)) !== JSON.stringify(at(next, key)));
}
