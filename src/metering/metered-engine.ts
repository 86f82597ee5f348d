import { EnclaveError } from "../errors";
import type { Engine } from "../inference/engine";
import type { EmbeddingRequest, GenerationEvent, GenerationRequest } from "../inference/types";
import { observeEvents } from "../inference/observe-events";
import { intersectRegions } from "../residency/region-scope";
import { assertModelAllowed, type MeterRegistry, type RequestMeter } from "./request-meter";

/**
 * The engine as the guarded /v1 routes see it: before a request reaches the real engine its
 * model is checked against the key's scope (403) and the key's region scope is put on it (the
 * router answers 403 residency_violation when no backend is left), and as it runs its token
 * counts, time to first token and error code go to the request's meter. Requests without a meter (none is opened for
 * unauthenticated paths) pass through unchanged. Event text is passed on, never kept.
 */
export function createMeteredEngine(inner: Engine, meters: MeterRegistry, now: () => number = Date.now): Engine {
  const noteError = (meter: RequestMeter | undefined, error: unknown) => {
    if (meter != null) meter.errorCode = error instanceof EnclaveError ? error.code : "internal_error";
  };

  /** The request narrowed to the key's regions (and any narrowing it already carried). */
  function scoped<R extends GenerationRequest | EmbeddingRequest>(request: R, meter: RequestMeter): R {
    const scope = meter.allowedRegions;
    if (scope == null) return request;
    return { ...request, allowedRegions: intersectRegions(request.allowedRegions ?? null, scope.regions)!, allowedRegionsRule: scope.rule };
  }

  function observe(events: AsyncIterable<GenerationEvent>, meter: RequestMeter): AsyncIterable<GenerationEvent> {
    return observeEvents(events, {
      event(event) {
        if (event.type === "text" && meter.ttftMs == null) meter.ttftMs = now() - meter.admittedAt;
        if (event.type === "done") {
          meter.promptTokens = event.usage.promptTokens;
          meter.completionTokens = event.usage.completionTokens;
          meter.draftTokensAccepted = event.usage.draftTokensAccepted ?? null;
          meter.ttftMs ??= now() - meter.admittedAt;
        }
      },
      failed: (error) => noteError(meter, error),
    });
  }

  return {
    start: () => inner.start(),
    isReady: () => inner.isReady(),
    models: () => inner.models(),
    async generate(request) {
      const meter = meters.get(request.requestId);
      if (meter == null) return inner.generate(request);
      meter.model = request.model;
      assertModelAllowed(meter, request.model);
      try {
        return observe(await inner.generate(scoped(request, meter)), meter);
      } catch (error) {
        noteError(meter, error);
        throw error;
      }
    },
    async embed(request) {
      const meter = meters.get(request.requestId);
      if (meter == null) return inner.embed(request);
      meter.model = request.model;
      assertModelAllowed(meter, request.model);
      try {
        const result = await inner.embed(scoped(request, meter));
        meter.promptTokens = result.promptTokens;
        meter.ttftMs = now() - meter.admittedAt;
        return result;
      } catch (error) {
        noteError(meter, error);
        throw error;
      }
    },
    [Symbol.asyncDispose]: () => inner[Symbol.asyncDispose](),
  };
}
