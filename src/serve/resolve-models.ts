import type { Config } from "../config/schema";
import { resolveForgeOptions } from "../forge/forge-options";
import { forgePair } from "../forge/forge-pair";
import type { Logger } from "../logging/logger";
import { demoModelDir, servedConfig } from "./served-config";

/**
 * The models to serve. With none configured, forges the demo target+draft pair into the data dir
 * (once; later starts find it cached) so a newcomer gets a working API in one command.
 */
export async function resolveModels(
  config: Readonly<Config>,
  logger: Logger,
  progress?: { update(done: number, total: number): void; finish(summary: string): void },
): Promise<Readonly<Config>> {
  if (config.models.length > 0) return config;
  const dir = demoModelDir(config);
  const started = performance.now();
  await forgePair(resolveForgeOptions("demo"), dir, progress && ((done, total) => progress.update(done, total)));
  // The bar is cleared before the next log line, so the two never share a terminal line.
  progress?.finish("demo model forged");
  logger.info({ dir, seconds: +((performance.now() - started) / 1000).toFixed(2) }, "no [[models]] configured: serving the forged demo pair");
  return servedConfig(config);
}
