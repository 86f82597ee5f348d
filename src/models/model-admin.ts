import { dirname, resolve } from "node:path";
import { z } from "zod";
import { ConflictError } from "../accounts/conflict-error";
import type { Actor } from "../accounts/actor";
import type { LiveConfig } from "../config/live-config";
import { modelSchema, type ModelConfig } from "../config/schema";
import type { AuditRepository } from "../store/audit-repository";
import { EnclaveError, ModelNotFoundError, PermissionDeniedError } from "../errors";
import type { ModelPool } from "../inference/model-pool";
import type { ModelStatus } from "../inference/types";
import type { Logger } from "../logging/logger";
import { residencyViolations } from "../residency/residency-violations";
import { parseInput } from "../validation/parse-input";
import { checkedModelFile, modelDirs } from "./model-file";
import { persistModels } from "./persist-models";

/** `persist: true` also writes the change into the config file; otherwise it lasts until the next restart or reload. */
export const PersistInput = z.strictObject({ persist: z.boolean().default(false).describe("write the change into the config file") });

/** POST /admin/models: a `[[models]]` table, held to the config's own rules, and `persist`. */
export const AddModelInput = modelSchema.safeExtend(PersistInput.shape);

export interface ModelAdminDeps {
  pool: ModelPool;
  live: LiveConfig;
  /** The config file the server was started with; null when it runs on built-in defaults. */
  configFile: string | null;
  audit: AuditRepository;
  logger: Pick<Logger, "info" | "warn" | "error">;
  now?: () => number;
}

/** A model as the admin API shows it: its config and its state now. */
export type ModelView = ReturnType<typeof toModelView>;

function toModelView(config: ModelConfig, status: ModelStatus | undefined) {
  return {
    object: "model" as const,
    id: config.id,
    path: config.path,
    draft_path: config.draft?.path ?? null,
    default: status?.isDefault ?? false,
    state: status?.state ?? ("unloaded" as const),
    context_size: status?.contextSize ?? config.context_size,
    parallel: config.parallel,
    busy_sequences: status?.busySequences ?? 0,
    queue_depth: status?.queueDepth ?? 0,
    keep_alive_seconds: config.keep_alive_seconds,
    speculative: status?.speculative.mode ?? "none",
  };
}

/** 500 when a model cannot load; the reason (llama.cpp's, free of any prompt) is in the server log. */
export class ModelLoadError extends EnclaveError {
  constructor(id: string) {
    super({ message: `model '${id}' failed to load; the server log has the reason`, status: 500, type: "api_error", code: "engine_error" });
  }
}

/**
 * Models while the server runs: list, add (a local GGUF file inside engine.model_paths, checked
 * as a `[[models]]` table is), load, unload and remove. Admin keys only: models belong to the
 * whole installation. Each change is audited; `persist` writes it into the config file too. The
 * running config follows each change, so /admin/residency and a later persist see it.
 */
export function createModelAdmin(deps: ModelAdminDeps) {
  const { pool, live, logger } = deps;
  const now = deps.now ?? Date.now;

  const requireAdmin = (actor: Actor) => {
    if (actor.role !== "admin") throw new PermissionDeniedError("managing models needs an admin key; this is a manager key");
  };
  const view = (id: string): ModelView => {
    const config = pool.configs().find((model) => model.id === id);
    if (config == null) throw new ModelNotFoundError(id);
    return toModelView(config, pool.models().find((status) => status.id === id));
  };
  const audit = (actor: Actor, action: string, target: string, details: Record<string, unknown>) =>
    deps.audit.append({ actor: actor.id, action, target, details }, new Date(now()));
  const followConfig = () => live.replace(Object.freeze({ ...live.current(), models: Object.freeze([...pool.configs()]) as ModelConfig[] }));
  const configFileOrRefuse = (): string => {
    if (deps.configFile == null) throw new ConflictError("the server runs without a config file, so there is none to persist to; start it with --config", "persist");
    return deps.configFile;
  };
  const notTheDefault = (id: string, doing: string) => {
    const status = pool.models().find((model) => model.id === id);
    if (status?.isDefault) throw new ConflictError(`model '${id}' is the default model (loaded at all times, /ready follows it); make another model the default before you ${doing} it`);
  };

  return {
    list(actor: Actor): ModelView[] {
      requireAdmin(actor);
      const statuses = new Map(pool.models().map((status) => [status.id, status]));
      return pool.configs().map((config) => toModelView(config, statuses.get(config.id)));
    },

    async add(actor: Actor, body: unknown): Promise<ModelView> {
      requireAdmin(actor);
      const { persist: shouldPersist, ...input } = parseInput(AddModelInput, body);
      // What the admin wrote, without the defaults filled in, is what a persisted table keeps.
      const { persist: _, ...fields } = body as Record<string, unknown>;
      if (shouldPersist) configFileOrRefuse();
      // The default is loaded at all times and /ready follows it: a config-file decision, made by a reload.
      if (input.default && pool.configs().length > 0)
        throw new ConflictError("a model added at run time cannot become the default; set default = true in the config file and reload", "default");
      const config = live.current();
      const dirs = modelDirs(config.engine.model_paths, deps.configFile);
      const base = deps.configFile != null ? dirname(deps.configFile) : process.cwd();
      const path = await checkedModelFile(resolve(base, input.path), dirs, "path");
      const draftPath = input.draft != null ? await checkedModelFile(resolve(base, input.draft.path), dirs, "draft.path") : undefined;
      const model: ModelConfig = Object.freeze({ ...input, path, ...(input.draft != null && { draft: Object.freeze({ ...input.draft, path: draftPath! }) }) });
      const violation = residencyViolations({ ...config, models: [model], upstreams: [] }, { written: [] }).find((found) => found.key.startsWith("models[0]"));
      if (violation != null) throw new PermissionDeniedError(`the model breaks [residency]: it is outside residency.allowed_paths`, { code: "residency_violation", param: violation.key.endsWith("draft.path") ? "draft.path" : "path" });

      pool.add(model);
      try {
        if (shouldPersist) persistModels(configFileOrRefuse(), { add: { ...fields, path, ...(input.draft != null && { draft: { ...(fields.draft as object), path: draftPath } }) } });
      } catch (error) {
        void pool.remove(model.id);
        throw error;
      }
      followConfig();
      await audit(actor, "model.add", model.id, { path, draft_path: draftPath ?? null, persist: shouldPersist });
      return view(model.id);
    },

    async load(actor: Actor, id: string): Promise<ModelView> {
      requireAdmin(actor);
      view(id);
      try {
        await pool.load(id);
      } catch (error) {
        if (error instanceof EnclaveError) throw error;
        throw new ModelLoadError(id);
      }
      await audit(actor, "model.load", id, {});
      return view(id);
    },

    async unload(actor: Actor, id: string): Promise<ModelView> {
      requireAdmin(actor);
      view(id);
      notTheDefault(id, "unload");
      const inflight = pool.models().find((status) => status.id === id)?.busySequences ?? 0;
      // Not awaited: the answer comes at once, the old engine goes when its streams end.
      void pool.unload(id);
      await audit(actor, "model.unload", id, { in_flight: inflight });
      logger.info({ model: id }, "model unloaded by an admin");
      return view(id);
    },

    async remove(actor: Actor, id: string, body: unknown): Promise<ModelView> {
      requireAdmin(actor);
      const { persist } = parseInput(PersistInput, body ?? {});
      const removed = view(id);
      notTheDefault(id, "remove");
      if (persist) persistModels(configFileOrRefuse(), { remove: id });
      void pool.remove(id);
      followConfig();
      await audit(actor, "model.remove", id, { path: removed.path, persist });
      return { ...removed, state: "unloaded" };
    },
  };
}

export type ModelAdmin = ReturnType<typeof createModelAdmin>;
