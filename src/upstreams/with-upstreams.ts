import type { Config } from "../config/schema";
import type { Engine } from "../inference/engine";
import type { Logger } from "../logging/logger";
import { effectiveRegions } from "../residency/residency-violations";
import { createRoutingEngine, type RoutingEngine } from "./routing-engine";
import { createUpstreamEngine } from "./upstream-engine";

/**
 * The engine `serve` runs: the local engine and one upstream engine per `[[upstreams]]` backend
 * behind the region-aware router. Without upstreams the router still stands in front of the local
 * engine, so a key's or account's allowed_regions that leave out this installation's region are
 * refused (403 residency_violation) by the same rule either way. Each backend's readiness and
 * load probes start here, before the first request needs them.
 */
export function withUpstreams(deps: {
  config: Pick<Config, "residency" | "upstreams">;
  local: Engine;
  /** Upstream id -> API key (src/config/upstream-credentials.ts). */
  credentials: ReadonlyMap<string, string>;
  logger?: Logger;
}): RoutingEngine {
  const { config, local, credentials, logger } = deps;
  const upstreams = config.upstreams.map((upstream) => createUpstreamEngine({ upstream, apiKey: credentials.get(upstream.id), logger }));
  if (upstreams.length > 0)
    logger?.info({ upstreams: config.upstreams.map(({ id, region, models, weight, kind }) => ({ id, region, models, weight, kind })) }, "upstream engines declared");
  for (const upstream of upstreams) upstream.startProbing();
  return createRoutingEngine({ local, upstreams, allowedRegions: effectiveRegions(config.residency), localRegion: config.residency.region, logger });
}
