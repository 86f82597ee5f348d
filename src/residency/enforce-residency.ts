import type { Config } from "../config/schema";
import type { Logger } from "../logging/logger";
import { type EgressGuard, installEgressGuard } from "./egress-guard";
import { confineTempFiles, writtenPaths } from "./residency-paths";
import { residencyViolations, type ResidencyViolation } from "./residency-violations";
import { storeEndpoint } from "./store-endpoint";

export class ResidencyViolationError extends Error {
  constructor(readonly violations: ResidencyViolation[]) {
    super(violations.map((violation) => `${violation.key}: ${violation.message}`).join("\n"));
    this.name = "ResidencyViolationError";
  }
}

/** Start-up half of the residency promise, first step: refuse a config that would break it, before anything is written. */
export function refuseResidencyViolations(config: Readonly<Config>): void {
  const violations = residencyViolations(config, writtenPaths(config));
  if (violations.length > 0) throw new ResidencyViolationError(violations);
}

/**
 * Second step, once the data dir is ours: keep temp files inside it, and refuse every outbound
 * connection the egress policy does not allow.
 */
export function enforceResidency(config: Readonly<Config>, logger: Logger): EgressGuard {
  refuseResidencyViolations(config);
  const tempDir = confineTempFiles(config);
  const store = storeEndpoint(config.storage);
  const allowedHosts =
    config.residency.egress === "allow-listed"
      ? [...config.upstreams.map((upstream) => new URL(upstream.url).hostname), ...(store.kind === "postgres" && store.host != null ? [store.host] : [])]
      : [];
  const guard = installEgressGuard({
    allowedHosts,
    onRefused: (host) => logger.warn({ host }, "outbound connection refused by the residency egress policy"),
  });
  logger.info(
    { region: config.residency.region || null, egress: config.residency.egress, allowedHosts, tempDir },
    "residency enforced",
  );
  return guard;
}
