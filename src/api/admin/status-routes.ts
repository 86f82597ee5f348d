import type { Server } from "bun";
import { Elysia } from "elysia";
import type { KeyService } from "../../auth/key-service";
import type { ResidencyReport } from "../../residency/residency-report";
import { createAdminGate } from "./admin-gate";
import { serverStatus, type ServerStatusDeps } from "./server-status";
import { PermissionDeniedError } from "../../errors";

export interface StatusRoutesDeps extends ServerStatusDeps {
  keys: KeyService;
  /** The residency report of the running config (`enclave residency report`); absent: no /admin/residency. */
  residency?: () => ResidencyReport;
  clientIp?: (request: Request, server: Server<unknown> | null | undefined) => string | null;
}

/**
 * `GET /admin/status` (models, queues, speculative decoding, recent traffic) and
 * `GET /admin/residency` (the residency report, admin keys only); status for admin and manager keys. The console's
 * overview and privacy pages read these; so can any script.
 */
export function createStatusRoutes(deps: StatusRoutesDeps) {
  const { residency } = deps;
  const routes = new Elysia({ prefix: "/admin", name: "admin-status" })
    .use(createAdminGate(deps))
    .get("/status", ({ actor }) => serverStatus(deps, actor), {
      detail: { summary: "Models, sequences, queues, speculative decoding and recent traffic (requests, error rate, tokens/s)" },
    });
  if (residency == null) return routes;
  return routes.get(
    "/residency",
    ({ actor }) => {
      // Paths and backends of the whole installation: not a tenant's business.
      if (actor.role !== "admin") throw new PermissionDeniedError("the residency report needs an admin key; this is a manager key");
      return residency();
    },
    { detail: { summary: "Residency report (admin only): region, paths, egress mode, backends, config hash, violations" } },
  );
}
