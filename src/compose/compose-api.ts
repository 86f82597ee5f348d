import type { Server } from "bun";
import { createChoicesEngine } from "../inference/choices-engine";
import type { Engine } from "../inference/engine";
import type { Logger } from "../logging/logger";
import type { Metrics } from "../metrics/metrics-registry";
import { createMeteredEngine } from "../metering/metered-engine";
import type { ResidencyReport } from "../residency/residency-report";
import { ENCLAVE_VERSION } from "../version";
import { createAdminRoutes } from "../api/admin/routes";
import { createPrivacyRoutes } from "../api/admin/privacy-routes";
import { createRequestLogRoutes } from "../api/admin/request-log-routes";
import { createStatusRoutes } from "../api/admin/status-routes";
import { createV1Gate } from "../api/gate/v1-gate";
import { createOpenAiRoutes } from "../api/openai/routes";
import { createResponseStorage } from "../api/responses/response-storage";
import { createResponsesRoutes } from "../api/responses/routes";
import { createAnthropicRoutes } from "../api/anthropic/routes";
import { createModelRoutes } from "../api/admin/model-routes";
import type { ModelAdmin } from "../models/model-admin";
import { createPromptCacheSweep } from "../privacy/prompt-cache-sweep";
import type { Services } from "./compose-services";
import { forgetCachedPrompts } from "./forget-cached-prompts";

export interface ApiDeps {
  services: Services;
  /** The engine as built for this config (local llama.cpp behind the region router, or a fake in tests). */
  engine: Engine;
  logger: Logger;
  now?: () => number;
  clientIp?: (request: Request, server: Server<unknown> | null | undefined) => string | null;
  /** With metrics: the engine is instrumented, per-key usage and queue waits are observed. */
  metrics?: Pick<Metrics, "instrument" | "observeUsage">;
  /** The running config's residency report, served at GET /admin/residency; absent: no such route. */
  residency?: () => ResidencyReport;
  /** The models an admin manages while the server runs (GET/POST/DELETE /admin/models); absent: no such routes. */
  models?: ModelAdmin;
  /** How often cached prompt prefixes are checked against the store (keys revoked, accounts erased elsewhere); default 5 s. */
  promptCacheSweepMs?: number;
}

/**
 * The API as served, in one visible order. The engine stack, innermost first:
 *
 *   engine (router over local + upstreams)  ->  choices (OpenAI's n as one merged stream)
 *   ->  metrics (timings, counts)
 *   ->  payload retention (per caller's consent; nothing under ZDR)  ->  metering (caller required,
 *   model scope, region scope, token counts)
 *
 * and the routes over it: `/v1` behind the gate (keys, limits, the caller), `/admin` for admin and
 * manager keys. /health, /ready and /metrics belong to the app shell.
 */
export function composeApi(deps: ApiDeps) {
  const { services, logger, now, clientIp, metrics } = deps;
  // Revoking, deleting or erasing through the admin API drops the owner's cached prompts at once.
  const { keys, accounts, admission, pricing, privacy } = forgetCachedPrompts({ ...services, privacy: services.privacy }, deps.engine.promptCache);
  const choices = createChoicesEngine(deps.engine);
  const instrumented = metrics != null ? metrics.instrument(choices) : choices;
  const engine = createMeteredEngine(privacy.captureEngine(instrumented), now);

  const recorder = metrics != null ? metrics.observeUsage(services.recorder) : services.recorder;
  const gate = createV1Gate({ keys, admission, recorder, storeHealth: services.store.health, pricing, logger, now, clientIp });
  const clock = now ?? Date.now;
  const routes = [
    createOpenAiRoutes({ engine, gate }),
    createResponsesRoutes({ engine, gate, storage: createResponseStorage({ db: services.store.db, payloads: privacy.payloads, decide: privacy.decide, logger, now }) }),
    createAnthropicRoutes({ engine, gate }),
    createAdminRoutes({ usage: services.usage, keys, accounts, currency: pricing.currency, clientIp }),
    createPrivacyRoutes({ keys, privacy, audit: services.audit, clientIp }),
    createRequestLogRoutes({ db: services.store.db, keys, clientIp }),
    ...(deps.models != null ? [createModelRoutes({ keys, models: deps.models, clientIp })] : []),
    createStatusRoutes({ db: services.store.db, keys, models: () => instrumented.models(), version: ENCLAVE_VERSION, startedAt: clock(), now: clock, residency: deps.residency, clientIp }),
  ];
  const cache = deps.engine.promptCache;
  const promptCacheSweep = cache != null ? createPromptCacheSweep({ db: services.store.db, cache, intervalMs: deps.promptCacheSweepMs ?? 5_000, logger }) : undefined;
  return { routes, engine, instrumented, promptCacheSweep };
}
