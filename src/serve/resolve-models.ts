import { join } from "node:path";
import { modelSchema, type Config, type ModelConfig } from "../config/schema";
import { resolveForgeOptions } from "../forge/forge-options";
import { forgePair } from "../forge/forge-pair";
import type { Logger } from "../logging/logger";

export const DEMO_MODEL_ID = "demo";

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
  const options = resolveForgeOptions("demo");
  const dir = join(config.storage.data_dir, "models");
  const started = performance.now();
  const manifest = await forgePair(options, dir, progress && ((done, total) => progress.update(done, total)));
  // The bar is cleared before the next log line, so the two never share a terminal line.
  progress?.finish("demo model forged");
  logger.info({ dir, seconds: +((performance.now() - started) / 1000).toFixed(2) }, "no [[models]] configured: serving the forged demo pair");
  // Every other setting at its [[models]] default.
  const demo = modelSchema.parse({
    id: DEMO_MODEL_ID,
    path: join(dir, manifest.target.file),
    default: true,
    context_size: options.contextLength,
    draft: { path: join(dir, manifest.draft.file) },
  });
  return Object.freeze({ ...config, models: Object.freeze([demo]) as ModelConfig[] });
}
