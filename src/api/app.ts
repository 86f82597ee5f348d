import { cors } from "@elysiajs/cors";
import { Elysia } from "elysia";
import type { Config } from "../config/schema";
import { EnclaveError, InvalidRequestError, NotFoundError } from "../errors";
import type { Engine } from "../inference/engine";
import type { Logger } from "../logging/logger";
import type { Metrics, RequestRecord } from "../metrics/metrics-registry";
import { errorResponse, toParamPath } from "./error-response";
import { anthropicErrorResponse, isAnthropicPath } from "./anthropic/error-response";
import { onBodyEnd } from "./on-body-end";
import { createHealthRoutes } from "./health";
import { createRequestId } from "./request-id";
import { storeErrorOf } from "../db/store-error-of";
import { edgeRequest } from "./edge-request";
import { apiOperations } from "./openapi/api-operations";
import { createDocsRoutes } from "./openapi/docs-routes";
import type { RouteEntry } from "./openapi/openapi-document";

export interface AppDeps {
  config: Pick<Config, "server">;
  engine: Engine;
  logger: Logger;
  version: string;
  /** True while the metadata store answers; /ready needs it. */
  storeIsOpen: () => boolean;
  /** Feature route modules mounted under the app (e.g. the OpenAI routes). */
  routes?: Elysia<any, any, any, any, any, any, any>[];
  /** Receives every request's method, route, status and duration (the HTTP series of /metrics). */
  metrics?: Pick<Metrics, "requestStarted">;
}

/** What the request log learns about a request as Elysia handles it. */
interface Tracked {
  requestId: string;
  route: string | null;
  errorCode: string | null;
  /** The cause behind a vague error answer (EnclaveError.reason): logged, never sent. */
  reason?: string;
}

/**
 * The HTTP application: one error handler for every route, request ids, the body limit, and the
 * feature modules. Built without listening, so tests drive it with `app.handle(request)`.
 */
export function createApp(deps: AppDeps) {
  const { logger } = deps;
  const bodyLimit = deps.config.server.body_limit_bytes;
  const tracked = new WeakMap<Request, Tracked>();

  const app = new Elysia({ name: "enclave" })
    .wrap((handle: (...args: any[]) => any) => logRequests(handle, tracked, logger, deps.metrics, { bodyLimit, writeDeadlineMs: deps.config.server.write_timeout_seconds * 1000 }) as any)
    .use(
      createDocsRoutes({
        info: { title: "Enclave", version: deps.version, description: "Private, self-hosted LLM inference with OpenAI- and Anthropic-compatible APIs" },
        operations: apiOperations,
        routes: (): RouteEntry[] => app.routes,
      }),
    )
    .onRequest(({ request, set }) => {
      const requestId = createRequestId();
      set.headers["x-request-id"] = requestId;
      const state: Tracked = { requestId, route: null, errorCode: null };
      tracked.set(request, state);
    })
    .onTransform({ as: "global" }, ({ request, route }) => {
      const state = tracked.get(request);
      if (state != null) state.route = route;
    })
    .onError(({ code, error, set, request, route }) => {
      const requestId = set.headers["x-request-id"] as string | undefined;
      const known = toEnclaveError(code, error);
      const state = tracked.get(request);
      if (state != null) {
        state.route ??= code === "NOT_FOUND" ? null : (route ?? null);
        state.errorCode = known?.code ?? "internal_error";
        state.reason = known?.reason;
      }
      const answer = errorAnswerFor(request);
      if (known) return answer(known, requestId);
      // Only the error's class and the request id: an internal message can quote the prompt.
      logger.error({ requestId, err: { type: (error as Error)?.name ?? typeof error } }, "unhandled error");
      return answer(
        new EnclaveError({ message: `internal error on request ${requestId}`, status: 500, type: "api_error", code: "internal_error" }),
        requestId,
      );
    })
    .use(createHealthRoutes(deps));

  // Browsers may call the API only from the configured origins; with none, no CORS header is sent.
  const origins = deps.config.server.cors_origins;
  if (origins.length > 0)
    app.use(cors({ origin: [...origins], methods: ["GET", "POST", "PATCH", "PUT", "DELETE"], allowedHeaders: ["authorization", "content-type", "x-enclave-wait-for-model", "x-enclave-speculative"], exposeHeaders: ["x-request-id", "retry-after"], credentials: false }));

  for (const routes of deps.routes ?? []) app.use(routes);
  return app;
}

export type App = ReturnType<typeof createApp>;

/**
 * The outermost handler: one info line per request when its answer is complete (for a stream,
 * when its last byte is read or the client goes away) with the request id, method, route pattern,
 * status and duration; never the URL query, a header or a body. The same record feeds /metrics.
 */
function logRequests(
  handle: (...args: any[]) => unknown,
  tracked: WeakMap<Request, Tracked>,
  logger: Logger,
  metrics: AppDeps["metrics"],
  { bodyLimit, writeDeadlineMs }: { bodyLimit: number; writeDeadlineMs: number },
) {
  return async (incoming: Request, ...rest: unknown[]): Promise<Response> => {
    const started = performance.now();
    const ended = metrics?.requestStarted();
    let done = false;
    let request = incoming;
    const finish = (status: number, requestId: string | null) => {
      if (done) return;
      done = true;
      const state = tracked.get(request);
      const record: RequestRecord = {
        method: request.method,
        route: state?.route ?? null,
        status,
        durationMs: Math.round((performance.now() - started) * 100) / 100,
        errorCode: status >= 400 ? (state?.errorCode ?? null) : null,
      };
      ended?.(record);
      logger.info(
        {
          requestId: requestId ?? state?.requestId,
          method: record.method,
          route: record.route,
          // A matched path is logged as its pattern; an unmatched one is client input: a marker and its length only.
          ...(record.route == null && { path: "unmatched", pathLength: pathLength(request.url) }),
          status,
          durationMs: record.durationMs,
          ...(record.errorCode != null && { code: record.errorCode }),
          ...(record.errorCode != null && state?.reason != null && { reason: state.reason }),
        },
        "request",
      );
    };
    const edge = await edgeRequest(incoming, bodyLimit);
    if (edge instanceof EnclaveError) {
      const requestId = createRequestId();
      tracked.set(incoming, { requestId, route: null, errorCode: edge.code });
      finish(edge.status, requestId);
      return errorAnswerFor(incoming)(edge, requestId);
    }
    request = edge;
    let response: Response;
    try {
      response = (await handle(request, ...rest)) as Response;
    } catch (error) {
      finish(500, null);
      throw error;
    }
    const requestId = response.headers.get("x-request-id");
    if (response.body == null || !response.headers.get("content-type")?.startsWith("text/event-stream")) {
      finish(response.status, requestId);
      return response;
    }
    const status = response.status;
    return new Response(onBodyEnd(response.body, () => finish(status, requestId), { writeDeadlineMs }), { status, statusText: response.statusText, headers: response.headers });
  };
}

/**
 * The one error shape per surface: Anthropic's on its Messages paths (gate errors included, which
 * are raised before any handler), OpenAI's everywhere else.
 */
function errorAnswerFor(request: Request): (error: EnclaveError, requestId?: string) => Response {
  return isAnthropicPath(request.url) ? anthropicErrorResponse : errorResponse;
}

/** Characters of the URL's path (without the query); 0 when the URL does not parse. */
function pathLength(url: string): number {
  const parsed = URL.parse(url.startsWith("/") ? `http://localhost${url}` : url);
  return parsed?.pathname.length ?? 0;
}

function toEnclaveError(code: string | number, error: unknown): EnclaveError | null {
  if (error instanceof EnclaveError) return error;
  // A write lock not had in time, a full disk: 503, not 500.
  const storeError = storeErrorOf(error);
  if (storeError) return storeError;
  switch (code) {
    case "VALIDATION": {
      const first = (error as { all?: { path?: string; message?: string }[] }).all?.[0];
      const param = first?.path ? toParamPath(first.path) : null;
      // The validator's message names the expected type only; the rejected value is never echoed.
      return new InvalidRequestError(param ? `invalid '${param}': ${first?.message ?? "invalid value"}` : (first?.message ?? "invalid request body"), {
        param,
      });
    }
    case "PARSE":
      return new InvalidRequestError("request body is not valid JSON", { code: "invalid_json" });
    case "NOT_FOUND":
      // The path is client input: it is not echoed.
      return new NotFoundError("no route for this method and path");
    default:
      return null;
  }
}
