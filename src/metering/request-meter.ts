import { PermissionDeniedError } from "../auth/auth-errors";
import type { RegionScope } from "../auth/key-service";

/**
 * What one request's metering learns while it runs: the model, token counts, time to first token
 * and an engine error code. Numbers and ids only; there is no field a prompt or a completion could
 * be put in.
 */
export interface RequestMeter {
  readonly requestId: string;
  /** Models the key may use; null: every model. */
  readonly allowedModels: readonly string[] | null;
  /** Regions the key's requests may be processed in (its own list narrowed by its account's); null: `[residency]` alone. */
  readonly allowedRegions: RegionScope | null;
  /** Set by the engine wrapper when the request reaches the engine (after admission). */
  admittedAt: number;
  model: string | null;
  promptTokens: number;
  completionTokens: number;
  ttftMs: number | null;
  draftTokensAccepted: number | null;
  errorCode: string | null;
  /** The account and key the request was authenticated as (for the payload retention policy); null when unknown. */
  readonly accountId: string | null;
  readonly keyId: string | null;
}

export function createRequestMeter(
  requestId: string,
  allowedModels: readonly string[] | null,
  admittedAt: number,
  subject: { accountId: string; keyId: string } | null = null,
  allowedRegions: RegionScope | null = null,
): RequestMeter {
  return {
    requestId,
    allowedModels,
    allowedRegions,
    admittedAt,
    model: null,
    promptTokens: 0,
    completionTokens: 0,
    ttftMs: null,
    draftTokensAccepted: null,
    errorCode: null,
    accountId: subject?.accountId ?? null,
    keyId: subject?.keyId ?? null,
  };
}

/** 403 when the key's scope does not include the model. */
export function assertModelAllowed(meter: RequestMeter, model: string): void {
  if (meter.allowedModels != null && !meter.allowedModels.includes(model))
    throw new PermissionDeniedError(`this API key may not use model '${model}'; it may use: ${meter.allowedModels.join(", ")}`, {
      code: "model_not_allowed",
      param: "model",
    });
}

/** In-flight meters by request id: the HTTP gate opens them, the engine wrapper fills them in. */
export function createMeterRegistry() {
  const meters = new Map<string, RequestMeter>();
  return {
    open(meter: RequestMeter) {
      meters.set(meter.requestId, meter);
    },
    get: (requestId: string) => meters.get(requestId),
    close(requestId: string) {
      meters.delete(requestId);
    },
    get size() {
      return meters.size;
    },
  };
}

export type MeterRegistry = ReturnType<typeof createMeterRegistry>;
