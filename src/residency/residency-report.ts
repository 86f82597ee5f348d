import { resolve } from "node:path";
import type { Config } from "../config/schema";
import { ENCLAVE_VERSION } from "../version";
import { configHash } from "./config-hash";
import { residencyTempDir, runtimeDir, writtenPaths } from "./residency-paths";
import { storeEndpoint } from "./store-endpoint";
import { effectiveRegions, residencyViolations, type ResidencyViolation } from "./residency-violations";

export interface ResidencyReport {
  generated_at: string;
  enclave_version: string;
  region: string | null;
  allowed_regions: string[] | null;
  allowed_paths: string[];
  egress: Config["residency"]["egress"];
  paths: { data_dir: string; store: string; temp_dir: string; runtime_dir: string | null; models: { id: string; path: string; draft: string | null }[] };
  /** What the store at paths.store is (the SQLite file, or a Postgres server without its password) and the region it is in. */
  store: { kind: "sqlite" | "postgres"; region: string | null; on_this_machine: boolean };
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
      store: storeLocation(config),
      temp_dir: residencyTempDir(config),
      runtime_dir: runtimeDir(),
      models: config.models.map((model) => ({ id: model.id, path: resolve(model.path), draft: model.draft ? resolve(model.draft.path) : null })),
    },
    store: reportedStore(config),
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

function storeLocation(config: Readonly<Config>): string {
  const store = storeEndpoint(config.storage);
  return store.kind === "sqlite" ? resolve(config.storage.data_dir, "enclave.sqlite") : store.endpoint;
}

function reportedStore(config: Readonly<Config>): ResidencyReport["store"] {
  const store = storeEndpoint(config.storage);
  const region = config.residency.region || null;
  if (store.kind === "sqlite") return { kind: "sqlite", region, on_this_machine: true };
  return { kind: "postgres", region: store.local ? region : config.storage.database_region || null, on_this_machine: store.local };
}
