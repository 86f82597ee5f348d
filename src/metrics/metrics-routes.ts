import { createHash, timingSafeEqual } from "node:crypto";
import { Elysia } from "elysia";
import { bearerSecret } from "../auth/bearer-secret";
import type { Config } from "../config/schema";
import type { Metrics } from "./metrics-registry";
import { AuthenticationError } from "../errors";

export interface MetricsRoutesDeps {
  config: Pick<Config, "metrics">;
  metrics: Pick<Metrics, "render" | "contentType">;
}

/**
 * `GET /metrics` (metrics.path) in Prometheus text format. With metrics.token set, a scraper must
 * send it as a bearer token (compared in constant time); otherwise 401. With metrics.enabled off
 * the route does not exist (404).
 */
export function createMetricsRoutes(deps: MetricsRoutesDeps) {
  const { enabled, path, token } = deps.config.metrics;
  const routes = new Elysia({ name: "metrics" });
  if (!enabled) return routes;
  const expected = token.length > 0 ? digest(token) : null;
  return routes.get(
    path,
    async ({ request }) => {
      if (expected != null) {
        const presented = bearerSecret(request.headers);
        if (presented == null || presented === "") throw new AuthenticationError("missing");
        if (!timingSafeEqual(digest(presented), expected)) throw new AuthenticationError("invalid");
      }
      return new Response(await deps.metrics.render(), { headers: { "content-type": deps.metrics.contentType } });
    },
    { detail: { summary: "Prometheus metrics (text format)" } },
  );
}

/** Equal-length digests, so the comparison takes the same time whatever was sent. */
function digest(secret: string): Buffer {
  return createHash("sha256").update(secret).digest();
}
