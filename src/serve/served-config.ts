import { join } from "node:path";
import { modelSchema, type Config, type ModelConfig } from "../config/schema";
import { forgedFileName } from "../forge/forged-file-name";
import { resolveForgeOptions } from "../forge/forge-options";

export const DEMO_MODEL_ID = "demo";

/**
 * The config as the server runs it: with no [[models]], the forged demo pair in the data dir.
 * Pure (it forges nothing), so `enclave residency report` describes the same models, and hashes
 * the same config, as the running server's GET /admin/residency.
 */
export function servedConfig(config: Readonly<Config>): Readonly<Config> {
  if (config.models.length > 0) return config;
  const options = resolveForgeOptions("demo");
  const dir = demoModelDir(config);
  // Every other setting at its [[models]] default.
  const demo = modelSchema.parse({
    id: DEMO_MODEL_ID,
    path: join(dir, forgedFileName(options.preset, "target")),
    default: true,
    context_size: options.contextLength,
    draft: { path: join(dir, forgedFileName(options.preset, "draft")) },
  });
  return Object.freeze({ ...config, models: Object.freeze([demo]) as ModelConfig[] });
}

export function demoModelDir(config: Pick<Config, "storage">): string {
  return join(config.storage.data_dir, "models");
}
