import { Elysia } from "elysia";
import type { AppDeps } from "./app";

/** Liveness (the process answers) and readiness (store open and default model loaded). */
export function createHealthRoutes(deps: Pick<AppDeps, "engine" | "storeIsOpen" | "version">) {
  return new Elysia({ name: "health" })
    .get("/health", () => ({ status: "ok", version: deps.version }), { detail: { summary: "Liveness" } })
    .get(
      "/ready",
      ({ set }) => {
        const store = deps.storeIsOpen();
        const model = deps.engine.isReady();
        if (!store || !model) set.status = 503;
        return { status: store && model ? "ready" : store ? "starting" : "unavailable", store: store ? "open" : "closed", default_model: model ? "loaded" : "not loaded" };
      },
      { detail: { summary: "Readiness: 200 only when the store is open and the default model is loaded" } },
    );
}
