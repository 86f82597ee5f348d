import { resolve } from "node:path";
import type { Config } from "../config/schema";
import { ENCLAVE_VERSION } from "../version";
import { configHash } from "./config-hash";
import { residencyTempDir, runtimeDir, writtenPaths } from "./residency-paths";
import { effectiveRegions, residencyViolations, type ResidencyViolation } from "./residency-violations";

export interface ResidencyReport {
  generated_at: string;
  enclave_version: string;
  region: string | null;
  allowed_regions: string[] | null;
  allowed_paths: string[];
  egress: Config["residency"]["egress"];
  paths: { data_dir: string; store: string; temp_dir: string; runtime_dir: string | null; models: { id: string; path: string; draft: string | null }[] };
  backends: { id: string; kind: "local" | "upstream"; region: string | null; models: string[]; url?: string }[];
  config_hash: string;
  violations: ResidencyViolation[];
}

/** What an auditor files: where data is processed and stored, what may leave, and the config it came from. */
export function residencyReport(config: Readonly<Config>, now: Date = new Date()): ResidencyReport {
  const { residency } = config;
  const region = residency.region === "" ? null : residency.region;
  return {
    generated_at: now.toISOString(),
    enclave_version: ENCLAVE_VERSION,
    region,
    allowed_regions: effectiveRegions(residency),
    allowed_paths: residency.allowed_paths.map((path) => resolve(path)),
    egress: residency.egress,
    paths: {
      data_dir: resolve(config.storage.data_dir),
      store: resolve(config.storage.data_dir, "enclave.sqlite"),
      temp_dir: residencyTempDir(config),
      runtime_dir: runtimeDir(),
      models: config.models.map((model) => ({ id: model.id, path: resolve(model.path), draft: model.draft ? resolve(model.draft.path) : null })),
    },
    backends: [
      { id: "local", kind: "local", region, models: config.models.map((model) => model.id) },
      ...config.upstreams.map((upstream) => ({
        id: upstream.id,
        kind: "upstream" as const,
        region: upstream.region,
        models: upstream.models,
        url: new URL(upstream.url).origin,
      })),
    ],
    config_hash: configHash(config),
    violations: residencyViolations(config, writtenPaths(config)),
  };
}
