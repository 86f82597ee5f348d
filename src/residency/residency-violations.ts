import { realpathSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import type { Config } from "../config/schema";
import { storeEndpoint } from "./store-endpoint";

/** One way the configuration would break the residency promise; `key` is the config key at fault. */
export interface ResidencyViolation {
  key: string;
  message: string;
}

export interface ResidencyPaths {
  /** Directories Enclave writes to besides the data dir: the runtime unpack cache, temp files. */
  written: { key: string; path: string }[];
}

const REMOTE_MODEL = /^(?:[a-z][a-z0-9+.-]*:\/\/|hf:)/i;

/**
 * Every violation of `[residency]` by the rest of the config, all at once so an admin fixes them
 * in one pass. Paths are compared after resolving symlinks (of the nearest existing ancestor), so
 * a symlink cannot smuggle data out of an allowed directory.
 */
export function residencyViolations(config: Pick<Config, "residency" | "storage" | "models" | "upstreams">, paths: ResidencyPaths): ResidencyViolation[] {
  const { region, allowed_regions, allowed_paths, egress } = config.residency;
  const violations: ResidencyViolation[] = [];
  const allowedRegions = effectiveRegions(config.residency);

  if (region !== "" && allowed_regions.length > 0 && !allowed_regions.includes(region))
    violations.push({ key: "residency.region", message: `this installation's region '${region}' is not in allowed_regions (${allowed_regions.join(", ")})` });

  const roots = allowed_paths.map((path) => realPath(resolve(path)));
  const checkPath = (key: string, path: string) => {
    if (roots.length === 0) return;
    const real = realPath(resolve(path));
    if (!roots.some((root) => isInside(real, root)))
      violations.push({ key, message: `${real} is outside allowed_paths (${roots.join(", ")})` });
  };
  checkPath("storage.data_dir", config.storage.data_dir);
  violations.push(...storeViolations(config, allowedRegions));
  for (const { key, path } of paths.written) checkPath(key, path);

  config.models.forEach((model, index) => {
    for (const [key, path] of [[`models[${index}].path`, model.path], [`models[${index}].draft.path`, model.draft?.path]] as const) {
      if (path == null) continue;
      if (REMOTE_MODEL.test(path)) {
        if (egress === "deny") violations.push({ key, message: `remote model '${path}' would be downloaded, but egress is "deny"; use a local file` });
        else violations.push({ key, message: `remote model '${path}': models must be local files` });
        continue;
      }
      checkPath(key, path);
    }
  });

  config.upstreams.forEach((upstream, index) => {
    const key = `upstreams[${index}]`;
    if (egress === "deny") violations.push({ key, message: `upstream '${upstream.id}' is declared, but egress is "deny"; set egress = "allow-listed"` });
    if (allowedRegions != null && !allowedRegions.includes(upstream.region))
      violations.push({ key: `${key}.region`, message: `upstream '${upstream.id}' is in region '${upstream.region}', not in the allowed regions (${allowedRegions.join(", ")})` });
  });
  return violations;
}

/**
 * A Postgres store off this machine is an outbound connection that carries metadata (and, where
 * retention keeps them, encrypted payloads): it needs egress, and a declared region inside the
 * allowed ones. A store on this machine stays in the installation's region.
 */
function storeViolations(config: Pick<Config, "residency" | "storage">, allowedRegions: string[] | null): ResidencyViolation[] {
  const store = storeEndpoint(config.storage);
  if (store.kind === "sqlite" || store.local) return [];
  const violations: ResidencyViolation[] = [];
  if (config.residency.egress === "deny")
    violations.push({
      key: "storage.database_url",
      message: `the store at '${store.host}' is off this machine, but egress is "deny"; set egress = "allow-listed" (the store's host is then allowed) or use a database on this machine`,
    });
  const region = config.storage.database_region;
  if (allowedRegions == null) return violations;
  if (region === "")
    violations.push({ key: "storage.database_region", message: `the store at '${store.host}' has no declared region; set database_region to the region its server runs in (allowed: ${allowedRegions.join(", ")})` });
  else if (!allowedRegions.includes(region))
    violations.push({ key: "storage.database_region", message: `the store at '${store.host}' is in region '${region}', not in the allowed regions (${allowedRegions.join(", ")})` });
  return violations;
}

/** The regions data may be processed in; null when residency is not configured (no region, no list). */
export function effectiveRegions(residency: Config["residency"]): string[] | null {
  if (residency.allowed_regions.length > 0) return residency.allowed_regions;
  if (residency.region !== "") return [residency.region];
  return null;
}

function isInside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/** realpath of the path, or of its nearest existing ancestor joined with the rest (it may not exist yet). */
function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    const parent = dirname(path);
    if (parent === path) return path;
    return resolve(realPath(parent), relative(parent, path));
  }
}
