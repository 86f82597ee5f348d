import type { Server } from "bun";
import { requestSecret } from "../../auth/request-secret";
import type { Caller } from "../../caller/caller";
import type { KeyService } from "../../auth/key-service";
import { EnclaveError } from "../../errors";
import type { Admission, Admitted } from "../../limits/admission";
import type { Logger } from "../../logging/logger";
import type { Pricing } from "../../metering/pricing";
import { createRequestMeter } from "../../caller/request-meter";
import type { UsageRecorder } from "../../metering/usage-recorder";
import type { StoreHealth } from "../../db/store-health";
import { onBodyEnd } from "../on-body-end";
import { createCallerGate } from "./caller-gate";
import { clientIp as peerAddress } from "./client-ip";

export interface V1GateDeps {
  keys: KeyService;
  admission: Admission;
  recorder: UsageRecorder;
  /** Refuses new inference (503 store_unavailable) while usage rows cannot be written. */
  storeHealth: Pick<StoreHealth, "assertWritable">;
  pricing: Pricing;
  logger: Logger;
  now?: () => number;
  clientIp?: (request: Request, server: Server<unknown> | null | undefined) => string | null;
}

/** A request the gate admitted, until its answer is complete. */
interface InFlight {
  requestId: string;
  /** The route pattern, e.g. "POST /v1/models/:id": never the path the client sent. */
  endpoint: string;
  ip: string | null;
  startedAt: number;
  queueMs: number;
  admitted?: Admitted;
}

/**
 * The /v1 gate: every route module that `.use()`s it is behind an API key and the key's limits,
 * and each request is metered:
 *
 * 1. authenticate the key, `Authorization: Bearer` or `x-api-key` (401), and its IP allow-list (403);
 * 2. admit it: credits, budgets, rpm, tpm, then a concurrency slot, waiting in the key's bounded
 *    queue (429 with Retry-After and x-ratelimit-* headers);
 * 3. hand the routes a `caller` (key, account, region scope, meter) to put on the engine request;
 * 4. hold the slot until the response is complete: for a stream, until its last byte is read or
 *    the client goes away;
 * 5. write one metering row (ids, configured model id, token counts, timings, status; never content).
 */
export function createV1Gate(deps: V1GateDeps) {
  const { keys, admission, recorder, pricing, logger } = deps;
  const now = deps.now ?? Date.now;
  const clientIp = deps.clientIp ?? peerAddress;
  const inFlight = new WeakMap<Caller, InFlight>();

  /** Never rejects: a row the store cannot take now is kept by the recorder and logged here. */
  async function record(request: InFlight, caller: Pick<Caller, "key" | "account"> & Partial<Pick<Caller, "meter">>, status: number, errorCode: string | null) {
    const { meter } = caller;
    const promptTokens = meter?.promptTokens ?? 0;
    const cachedTokens = meter?.cachedTokens ?? 0;
    const completionTokens = meter?.completionTokens ?? 0;
    const model = meter?.model ?? null;
    try {
      await recorder.record({
        id: request.requestId,
        keyId: caller.key.id,
        accountId: caller.account.id,
        endpoint: request.endpoint,
        model,
        startedAt: new Date(request.startedAt),
        queueMs: request.queueMs,
        ttftMs: meter?.ttftMs ?? null,
        durationMs: now() - request.startedAt,
        promptTokens,
        cachedTokens,
        completionTokens,
        draftTokensAccepted: meter?.draftTokensAccepted ?? null,
        costMicros: pricing.costMicros(model, promptTokens, completionTokens, cachedTokens),
        status,
        errorCode: errorCode ?? meter?.errorCode ?? null,
        clientIp: request.ip,
      });
    } catch (error) {
      logger.error({ requestId: request.requestId, err: { type: (error as Error)?.name } }, "metering write failed");
    }
  }

  function finish(caller: Caller, status: number, errorCode: string | null) {
    const request = inFlight.get(caller);
    if (request == null) return;
    inFlight.delete(caller);
    request.admitted?.lease.release();
    request.admitted?.recordTokens(caller.meter.promptTokens + caller.meter.completionTokens);
    void record(request, caller, status, errorCode);
  }

  return createCallerGate({
    async resolve({ request, headers, server, route }) {
      const startedAt = now();
      const requestId = String(headers["x-request-id"] ?? crypto.randomUUID());
      const endpoint = `${request.method} ${route}`;
      const ip = clientIp(request, server);
      const { key, account } = await keys.authenticate(requestSecret(request.headers), ip);
      // Unmetered inference would escape budgets and credits.
      deps.storeHealth.assertWritable();
      let admitted: Admitted;
      try {
        admitted = await admission.admit({ key, account, signal: request.signal });
      } catch (error) {
        Object.assign(headers, admission.headers(key));
        if (error instanceof EnclaveError) void record({ requestId, endpoint, ip, startedAt, queueMs: now() - startedAt }, { key, account }, error.status, error.code);
        throw error;
      }
      Object.assign(headers, admission.headers(key));
      const caller: Caller = { key, account, regions: await keys.regionScope(key, account), meter: createRequestMeter(now()) };
      inFlight.set(caller, { requestId, endpoint, ip, startedAt, queueMs: admitted.lease.queuedMs, admitted });
      return caller;
    },
    async answered(caller, response, status) {
      if (response == null) return finish(caller, status, null);
      if (response.status >= 400 || response.body == null) return finish(caller, response.status, response.status >= 400 ? await errorCodeOf(response) : null);
      const { status: answeredStatus, statusText, headers } = response;
      return new Response(onBodyEnd(response.body, () => finish(caller, answeredStatus, null)), { status: answeredStatus, statusText, headers });
    },
  });
}

/** The `error.code` of an error response (our own JSON shape, or the code header beside Anthropic's); the body is small and content-free. */
async function errorCodeOf(response: Response): Promise<string | null> {
  const header = response.headers.get("x-enclave-error-code");
  if (header != null) return header;
  try {
    const body = (await response.clone().json()) as { error?: { code?: unknown } };
    return typeof body.error?.code === "string" ? body.error.code : `http_${response.status}`;
  } catch {
    return `http_${response.status}`;
  }
}
