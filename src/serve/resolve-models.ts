import { join } from "node:path";
import type { Config, ModelConfig } from "../config/schema";
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
  onProgress?: (done: number, total: number) => void,
): Promise<Readonly<Config>> {
  if (config.models.length > 0) return config;
  const options = resolveForgeOptions("demo");
  const dir = join(config.storage.data_dir, "models");
  const started = performance.now();
  const manifest = await forgePair(options, dir, onProgress);
  logger.info({ dir, seconds: +((performance.now() - started) / 1000).toFixed(2) }, "no [[models]] configured: serving the forged demo pair");
  const demo: ModelConfig = {
    id: DEMO_MODEL_ID,
    path: join(dir, manifest.target.file),
    default: true,
    context_size: options.contextLength,
    parallel: 2,
    queue_size: 32,
    threads: 0,
    gpu_layers: "auto",
    keep_alive_seconds: 0,
    speculative: "auto",
    draft: { path: join(dir, manifest.draft.file), min_tokens: 1, max_tokens: 16, min_confidence: 0.6, threads: 0, adaptive: true },
  };
  return Object.freeze({ ...config, models: Object.freeze([demo]) as ModelConfig[] });
}
