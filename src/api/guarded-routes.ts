import type { Server } from "bun";
import type { Elysia } from "elysia";
import { createAccountService } from "../accounts/account-service";
import { createKeyService } from "../auth/key-service";
import type { Config } from "../config/schema";
import type { Store } from "../db/client";
import type { Engine } from "../inference/engine";
import { createAdmission } from "../limits/admission";
import type { Logger } from "../logging/logger";
import type { Metrics } from "../metrics/metrics-registry";
import { createMeteredEngine } from "../metering/metered-engine";
import { createPricing } from "../metering/pricing";
import { createMeterRegistry } from "../metering/request-meter";
import { createUsageRecorder } from "../metering/usage-recorder";
import { createPrivacy } from "../privacy/create-privacy";
import { ZDR_RETENTION } from "../privacy/payload-policy";
import type { ResidencyReport } from "../residency/residency-report";
import { effectiveRegions } from "../residency/residency-violations";
import { ENCLAVE_VERSION } from "../version";
import { createAdminRoutes } from "./admin/routes";
import { createPrivacyRoutes } from "./admin/privacy-routes";
import { createStatusRoutes } from "./admin/status-routes";
import { createV1Gate } from "./gate/v1-gate";
import { createOpenAiRoutes } from "./openai/routes";

export interface GuardedRoutesDeps {
  /** `retention` absent: zero data retention; `residency` absent: keys and accounts may name any region. */
  config: Pick<Config, "auth" | "limits" | "pricing"> & Partial<Pick<Config, "retention" | "residency">>;
  engine: Engine;
  store: Store;
  logger: Logger;
  now?: () => number;
  clientIp?: (request: Request, server: Server<unknown> | null | undefined) => string | null;
  /** The /v1 routes over the engine they must use; default the OpenAI routes. */
  v1Routes?: (engine: Engine) => Elysia<any, any, any, any, any, any, any>;
  /** Per-key queue wait and usage in /metrics; absent: usage is only recorded. */
  metrics?: Pick<Metrics, "observeUsage">;
  /** The running config's residency report, served at GET /admin/residency; absent: no such route. */
  residency?: () => ResidencyReport;
}

/**
 * The API's feature routes as served: `/v1` behind keys, limits and metering (over an engine
 * that checks model scopes and meters tokens), and `/admin`. /health and /ready stay outside.
 */
export function createGuardedRoutes(deps: GuardedRoutesDeps) {
  const { config, store, logger, now, clientIp } = deps;
  const db = store.db;
  // A key's or account's allowed_regions may only narrow what [residency] allows.
  const installationRegions = config.residency != null ? effectiveRegions(config.residency) : null;
  const keys = createKeyService({ db, pepper: config.auth.pepper, now, installationRegions });
  const accounts = createAccountService({ db, now, installationRegions });
  const pricing = createPricing(config.pricing);
  const admission = createAdmission({ limits: config.limits, currency: pricing.currency, db, now });
  const meters = createMeterRegistry();
  // Payloads are kept only where [retention] or an account's consent allows it, and only encrypted.
  const privacy = createPrivacy({ store, retention: config.retention ?? ZDR_RETENTION, logger, now });
  const subjectOf = (requestId: string) => {
    const meter = meters.get(requestId);
    return meter?.accountId != null && meter.keyId != null ? { accountId: meter.accountId, keyId: meter.keyId } : null;
  };
  const engine = createMeteredEngine(privacy.captureEngine(deps.engine, subjectOf), meters, now);
  // /v1/models lists only what the key's model scope allows, as OpenAI lists the models an account can use.
  const modelScope = (requestId: string | undefined) => (requestId == null ? null : (meters.get(requestId)?.allowedModels ?? null));
  const v1 = (deps.v1Routes ?? ((metered) => createOpenAiRoutes({ engine: metered, modelScope })))(engine);
  const recorder = createUsageRecorder({ db, health: store.health }); // store-health: a usage row not written marks the store failing
  const gate = createV1Gate({ keys, admission, recorder: deps.metrics?.observeUsage(recorder) ?? recorder, storeHealth: store.health, pricing, meters, logger, now, clientIp }, v1);
  const admin = createAdminRoutes({ db, keys, accounts, currency: pricing.currency, clientIp });
  const privacyAdmin = createPrivacyRoutes({ keys, privacy, clientIp });
  const clock = now ?? Date.now;
  const status = createStatusRoutes({ db, keys, models: () => deps.engine.models(), version: ENCLAVE_VERSION, startedAt: clock(), now: clock, residency: deps.residency, clientIp });
  return { routes: [gate, admin, privacyAdmin, status], keys, accounts, admission, meters, engine, privacy };
}
