import type { Config } from "../config/schema";
import type { Engine } from "../inference/engine";
import type { Logger } from "../logging/logger";
import { effectiveRegions } from "../residency/residency-violations";
import { createRoutingEngine } from "./routing-engine";
import { createUpstreamEngine } from "./upstream-engine";

/**
 * The engine `serve` runs: the local engine alone when no `[[upstreams]]` are declared, otherwise
 * the local engine and one upstream engine per backend behind the region-aware router.
 */
export function withUpstreams(deps: {
  config: Pick<Config, "residency" | "upstreams">;
  local: Engine;
  /** Upstream id -> API key (src/config/upstream-credentials.ts). */
  credentials: ReadonlyMap<string, string>;
  logger?: Logger;
}): Engine {
  const { config, local, credentials, logger } = deps;
  if (config.upstreams.length === 0) return local;
  const upstreams = config.upstreams.map((upstream) => createUpstreamEngine({ upstream, apiKey: credentials.get(upstream.id), logger }));
  logger?.info({ upstreams: config.upstreams.map(({ id, region, models, weight }) => ({ id, region, models, weight })) }, "upstream engines declared");
  return createRoutingEngine({ local, upstreams, allowedRegions: effectiveRegions(config.residency), localRegion: config.residency.region, logger });
}
