import type { Server } from "bun";
import { Elysia } from "elysia";
import type { KeyService } from "../../auth/key-service";
import { RequestLogQuery, requestLog } from "../../metering/request-log";
import type { UsageRepository } from "../../store/usage-repository";
import { parseInput } from "../../validation/parse-input";
import { createAdminGate } from "./admin-gate";

export interface RequestLogRoutesDeps {
  usage: UsageRepository;
  keys: KeyService;
  clientIp?: (request: Request, server: Server<unknown> | null | undefined) => string | null;
}

/** `GET /admin/requests`: the request log (metadata only) for admin and manager keys; the console's Requests page reads it. */
export function createRequestLogRoutes(deps: RequestLogRoutesDeps) {
  return new Elysia({ prefix: "/admin", name: "admin-request-log" })
    .use(createAdminGate(deps))
    .get("/requests", async ({ actor, query }) => requestLog(deps.usage, actor, parseInput(RequestLogQuery, query, "query")), {
      detail: { summary: "Request log, newest first, metadata only (limit; before: a request id; since; key_id; status=success|client_error|server_error)" },
    });
}
