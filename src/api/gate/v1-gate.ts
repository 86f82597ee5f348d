import type { Server } from "bun";
import { Elysia } from "elysia";
import { bearerSecret } from "../../auth/bearer-secret";
import type { KeyService } from "../../auth/key-service";
import type { AccountRow, ApiKeyRow } from "../../db/schema";
import { EnclaveError } from "../../errors";
import type { Admission, Admitted } from "../../limits/admission";
import type { Logger } from "../../logging/logger";
import type { Pricing } from "../../metering/pricing";
import { createRequestMeter, type MeterRegistry, type RequestMeter } from "../../metering/request-meter";
import type { UsageRecorder } from "../../metering/usage-recorder";
import type { StoreHealth } from "../../db/store-health";
import { clientIp as peerAddress } from "./client-ip";
import { onBodyEnd } from "../on-body-end";

export interface V1GateDeps {
  keys: KeyService;
  admission: Admission;
  recorder: UsageRecorder;
  /** Refuses new inference (503 store_unavailable) while usage rows cannot be written. */
  storeHealth: Pick<StoreHealth, "assertWritable">;
  pricing: Pricing;
  /** Shared with the metered engine the guarded routes use. */
  meters: MeterRegistry;
  logger: Logger;
  now?: () => number;
  clientIp?: (request: Request, server: Server<unknown> | null | undefined) => string | null;
}

interface InFlight {
  requestId: string;
  endpoint: string;
  key: ApiKeyRow;
  account: AccountRow;
  ip: string | null;
  startedAt: number;
  queueMs: number;
  admitted: Admitted;
  meter: RequestMeter;
}

/**
 * Puts every route of `routes` behind an API key and the key's limits, and meters each request:
 *
 * 1. authenticate the bearer key (401) and its IP allow-list (403);
 * 2. admit it: credits, budgets, rpm, tpm, then a concurrency slot, waiting in the key's bounded
 *    queue (429 with Retry-After and x-ratelimit-* headers);
 * 3. hold the slot until the response is complete: for a stream, until its last byte is read or
 *    the client goes away;
 * 4. write one metering row (ids, model, token counts, timings, status; never content).
 *
 * The model scope (403) is checked by the metered engine, which sees the model the route asks for;
 * the key's region scope goes on the meter too, and the metered engine hands it to the router.
 */
export function createV1Gate(deps: V1GateDeps, routes: Elysia<any, any, any, any, any, any, any>) {
  const { keys, admission, recorder, pricing, meters, logger } = deps;
  const now = deps.now ?? Date.now;
  const clientIp = deps.clientIp ?? peerAddress;
  const inFlight = new WeakMap<Request, InFlight>();

  function record(request: Omit<InFlight, "admitted" | "meter"> & { meter?: RequestMeter }, status: number, errorCode: string | null) {
    const { meter } = request;
    const promptTokens = meter?.promptTokens ?? 0;
    const completionTokens = meter?.completionTokens ?? 0;
    const model = meter?.model ?? null;
    try {
      recorder.record({
        id: request.requestId,
        keyId: request.key.id,
        accountId: request.account.id,
        endpoint: request.endpoint,
        model,
        startedAt: new Date(request.startedAt),
        queueMs: request.queueMs,
        ttftMs: meter?.ttftMs ?? null,
        durationMs: now() - request.startedAt,
        promptTokens,
        completionTokens,
        draftTokensAccepted: meter?.draftTokensAccepted ?? null,
        costMicros: pricing.costMicros(model, promptTokens, completionTokens),
        status,
        errorCode: errorCode ?? meter?.errorCode ?? null,
        clientIp: request.ip,
      });
    } catch (error) {
      logger.error({ requestId: request.requestId, err: { type: (error as Error)?.name } }, "metering write failed");
    }
  }

  function finish(request: InFlight, status: number, errorCode: string | null) {
    meters.close(request.requestId);
    request.admitted.lease.release();
    request.admitted.recordTokens(request.meter.promptTokens + request.meter.completionTokens);
    record(request, status, errorCode);
  }

  return new Elysia({ name: "v1-gate" })
    .onBeforeHandle(async ({ request, set, server }) => {
      const startedAt = now();
      const requestId = String(set.headers["x-request-id"] ?? crypto.randomUUID());
      const endpoint = `${request.method} ${new URL(request.url).pathname}`;
      const ip = clientIp(request, server);
      const { key, account } = keys.authenticate(bearerSecret(request.headers), ip);
      deps.storeHealth.assertWritable(); // store-health: unmetered inference would escape budgets and credits
      let admitted: Admitted;
      try {
        admitted = await admission.admit({ key, account, signal: request.signal });
      } catch (error) {
        Object.assign(set.headers, admission.headers(key));
        if (error instanceof EnclaveError) record({ requestId, endpoint, key, account, ip, startedAt, queueMs: now() - startedAt }, error.status, error.code);
        throw error;
      }
      Object.assign(set.headers, admission.headers(key));
      const meter = createRequestMeter(requestId, key.models, now(), { accountId: account.id, keyId: key.id }, keys.regionScope(key, account));
      meters.open(meter);
      inFlight.set(request, { requestId, endpoint, key, account, ip, startedAt, queueMs: admitted.lease.queuedMs, admitted, meter });
    })
    .mapResponse(async ({ request, response, set }) => {
      const active = inFlight.get(request);
      if (active == null) return;
      inFlight.delete(request);
      if (!(response instanceof Response)) {
        finish(active, typeof set.status === "number" ? set.status : 200, null);
        return;
      }
      if (response.status >= 400 || response.body == null) {
        finish(active, response.status, response.status >= 400 ? await errorCodeOf(response) : null);
        return;
      }
      const status = response.status;
      return new Response(onBodyEnd(response.body, () => finish(active, status, null)), {
        status,
        statusText: response.statusText,
        headers: response.headers,
      });
    })
    .use(routes);
}

/** The `error.code` of an error response (our own JSON shape); the body is small and content-free. */
async function errorCodeOf(response: Response): Promise<string | null> {
  try {
    const body = (await response.clone().json()) as { error?: { code?: unknown } };
    return typeof body.error?.code === "string" ? body.error.code : `http_${response.status}`;
  } catch {
    return `http_${response.status}`;
  }
}
