import type { Server } from "bun";
import { Elysia } from "elysia";
import type { Caller } from "../../caller/caller";

/** What a gate sees of a request before its handler runs. */
export interface GateRequest {
  request: Request;
  /** Response headers so far (the app's x-request-id among them); a gate may add its own. */
  headers: Record<string, unknown>;
  server: Server<unknown> | null;
  /** The matched route pattern (e.g. "/v1/models/:id"), never the path a client sent. */
  route: string;
}

export interface CallerGateOptions {
  /** Authenticates and admits the request, or throws (401, 403, 429...). */
  resolve: (request: GateRequest) => Promise<Caller> | Caller;
  /**
   * The handler's answer, once known: a Response (which it may replace, e.g. to learn when a
   * stream ends) or null for a plain value Elysia serialises, with the status set for it.
   */
  answered?: (caller: Caller, response: Response | null, status: number) => Promise<Response | void> | Response | void;
}

/**
 * The plugin route modules `.use()` to get `caller` in their handlers' context: a typed value
 * resolved once per request (Elysia `resolve`), which the routes put on the engine request. The
 * real /v1 gate and the tests' fixed-caller gates are both built here, so they share one type.
 */
export function createCallerGate(options: CallerGateOptions) {
  const { answered } = options;
  return new Elysia()
    .resolve({ as: "scoped" }, async ({ request, set, server, route }) => ({
      caller: await options.resolve({ request, headers: set.headers, server: server ?? null, route }),
    }))
    .mapResponse({ as: "scoped" }, async (context) => {
      const { caller, response, set } = context as typeof context & { caller?: Caller; response: unknown };
      if (caller == null || answered == null) return;
      const status = typeof set.status === "number" ? set.status : 200;
      return (await answered(caller, response instanceof Response ? response : null, status)) ?? undefined;
    });
}

export type CallerGate = ReturnType<typeof createCallerGate>;
