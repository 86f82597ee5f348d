import type { Server } from "bun";
import { Elysia } from "elysia";
import { z } from "zod";
import type { KeyService } from "../../auth/key-service";
import type { ModelAdmin } from "../../models/model-admin";
import { parseInput } from "../../validation/parse-input";
import { createAdminGate } from "./admin-gate";

/** DELETE /admin/models/:id takes `persist` as a query parameter too: a DELETE body is something not every client sends. */
export const RemoveModelQuery = z.strictObject({ persist: z.enum(["true", "false"]).optional().describe("true also removes the model from the config file") });

export interface ModelRoutesDeps {
  keys: KeyService;
  models: ModelAdmin;
  clientIp?: (request: Request, server: Server<unknown> | null | undefined) => string | null;
}

/** `/admin/models`: the served models, changed while the server runs (admin keys only). */
export function createModelRoutes(deps: ModelRoutesDeps) {
  const { models } = deps;
  return new Elysia({ prefix: "/admin", name: "admin-models" })
    .use(createAdminGate(deps))
    .get("/models", ({ actor }) => ({ object: "list", data: models.list(actor) }), { detail: { summary: "Models with their config and state (admin only)" } })
    .post(
      "/models",
      async ({ actor, body, set }) => {
        const added = await models.add(actor, body);
        set.status = 201;
        return added;
      },
      { detail: { summary: "Add a model from a local GGUF file inside engine.model_paths; persist: true writes it into the config file" } },
    )
    .post("/models/:id/load", ({ actor, params }) => models.load(actor, params.id), { detail: { summary: "Load a model now; resolves when it is ready" } })
    .post("/models/:id/unload", ({ actor, params }) => models.unload(actor, params.id), {
      detail: { summary: "Unload a model; its in-flight requests finish first, the next request loads it again" },
    })
    .delete(
      "/models/:id",
      ({ actor, params, body, query }) => {
        const { persist } = parseInput(RemoveModelQuery, query, "query");
        return models.remove(actor, params.id, body ?? (persist != null ? { persist: persist === "true" } : {}));
      },
      {
        detail: { summary: "Stop serving a model once its in-flight requests finish; persist: true (body or ?persist=true) removes it from the config file" },
      },
    );
}
