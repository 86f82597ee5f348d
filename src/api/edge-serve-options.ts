import type { Server } from "bun";
import { EnclaveError, InvalidRequestError } from "../errors";
import { errorResponse } from "./error-response";
import { createRequestId } from "./request-id";

type Fetch = (request: Request, server: Server<unknown>) => Response | Promise<Response>;

/**
 * The Bun.serve options that decide what reaches the app, and what a client sees when it does not:
 * - development mode off: a thrown error is never Bun's HTML error page (it names host paths and
 *   JS error classes), and `error` answers in the API's shape;
 * - no body limit in Bun (its 413 is empty): the app reads bodies up to server.body_limit_bytes and
 *   answers 413 in the API's shape itself (see edge-request.ts);
 * - one Bun route per top-level path segment the app serves (`/v1/*`, `/admin/*`, ...). Bun matches
 *   these on the raw request-target but hands over `request.url` with its dot-segments resolved, so
 *   a request that matched `/v1/*` but whose URL is no longer under `/v1/` had a dot-segment
 *   (`/v1/../admin`, `/v1/%2e%2e/admin`): it is a 400, so a proxy that exposes only `/v1/*` cannot
 *   reach `/admin`, `/metrics` or `/ui` through it.
 */
export function edgeServeOptions(routePaths: readonly string[], fetch: Fetch) {
  const zones = [...new Set(routePaths.map((path) => path.split("/")[1]).filter((segment): segment is string => segment != null && /^[\w.~-]+$/.test(segment)))];
  const routes = Object.fromEntries(
    zones.map((zone) => [
      `/${zone}/*`,
      (request: Request, server: Server<unknown>) => {
        const path = URL.parse(request.url)?.pathname ?? "";
        if (path.startsWith(`/${zone}/`)) return fetch(request, server);
        return errorResponse(new InvalidRequestError("the path must not contain dot-segments", { code: "invalid_path" }), createRequestId());
      },
    ]),
  );
  return {
    development: false,
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    routes,
    fetch,
    error: () =>
      errorResponse(new EnclaveError({ message: "internal error", status: 500, type: "api_error", code: "internal_error" }), createRequestId()),
  } as const;
}
