import { openapi } from "@elysiajs/openapi";
import { Elysia } from "elysia";
import { z } from "zod";
import type { Config } from "../config/schema";
import { EnclaveError, InvalidRequestError, NotFoundError, PayloadTooLargeError } from "../errors";
import type { Engine } from "../inference/engine";
import type { Logger } from "../logging/logger";
import { errorResponse, toParamPath } from "./error-response";
import { createHealthRoutes } from "./health";
import { createRequestId } from "./request-id";

export interface AppDeps {
  config: Pick<Config, "server">;
  engine: Engine;
  logger: Logger;
  version: string;
  /** True while the metadata store answers; /ready needs it. */
  storeIsOpen: () => boolean;
  /** Feature route modules mounted under the app (e.g. the OpenAI routes). */
  routes?: Elysia<any, any, any, any, any, any, any>[];
}

/**
 * The HTTP application: one error handler for every route, request ids, the body limit, and the
 * feature modules. Built without listening, so tests drive it with `app.handle(request)`.
 */
export function createApp(deps: AppDeps) {
  const { logger } = deps;
  const bodyLimit = deps.config.server.body_limit_bytes;

  const app = new Elysia({ name: "enclave" })
    .use(
      openapi({
        provider: null,
        specPath: "/docs",
        mapJsonSchema: { zod: z.toJSONSchema },
        documentation: { info: { title: "Enclave", version: deps.version, description: "Private, self-hosted LLM inference with an OpenAI-compatible API" } },
      }),
    )
    .onRequest(({ request, set }) => {
      const requestId = createRequestId();
      set.headers["x-request-id"] = requestId;
      const length = Number(request.headers.get("content-length") ?? 0);
      if (length > bodyLimit) return errorResponse(new PayloadTooLargeError(bodyLimit, length), requestId);
    })
    .onError(({ code, error, set, request }) => {
      const requestId = set.headers["x-request-id"] as string | undefined;
      const known = toEnclaveError(code, error, request);
      if (known) return errorResponse(known, requestId);
      // Only the error's class and the request id: an internal message can quote the prompt.
      logger.error({ requestId, err: { type: (error as Error)?.name ?? typeof error } }, "unhandled error");
      return errorResponse(
        new EnclaveError({ message: `internal error on request ${requestId}`, status: 500, type: "api_error", code: "internal_error" }),
        requestId,
      );
    })
    .use(createHealthRoutes(deps));

  for (const routes of deps.routes ?? []) app.use(routes);
  return app;
}

export type App = ReturnType<typeof createApp>;

function toEnclaveError(code: string | number, error: unknown, request: Request): EnclaveError | null {
  if (error instanceof EnclaveError) return error;
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
      return new NotFoundError(`no route ${request.method} ${new URL(request.url).pathname}`);
    default:
      return null;
  }
}
