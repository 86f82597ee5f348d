import { assertModelAllowed } from "../caller/assert-model-allowed";
import { requireCaller } from "../caller/require-caller";
import { EnclaveError } from "../errors";
import type { Engine } from "../inference/engine";
import { decorateEngine } from "../inference/decorate-engine";
import { createModelLabel } from "../inference/model-label";
import { observeEvents } from "../inference/observe-events";
import type { EmbeddingRequest, GenerationEvent, GenerationRequest } from "../inference/types";
import { intersectRegions } from "../residency/region-scope";
import type { RequestMeter } from "../caller/request-meter";

/**
 * The engine as the guarded /v1 routes see it: every request must carry its caller (one without
 * is refused), its model is checked against the key's scope (403) and the caller's region scope is
 * put on it (the router answers 403 residency_violation when no backend is left), and as it runs
 * its token counts, time to first token and error code go to the caller's meter. Event text is
 * passed on, never kept.
 */
export function createMeteredEngine(inner: Engine, now: () => number = Date.now): Engine {
  const label = createModelLabel(inner);

  function admit<R extends GenerationRequest | EmbeddingRequest>(request: R): { request: R; meter: RequestMeter } {
    const caller = requireCaller(request, "the metered engine");
    caller.meter.model = label(request.model);
    assertModelAllowed(caller, request.model);
    const scope = caller.regions;
    if (scope == null) return { request, meter: caller.meter };
    const narrowed = { ...request, allowedRegions: intersectRegions(request.allowedRegions ?? null, scope.regions)!, allowedRegionsRule: scope.rule };
    return { request: narrowed, meter: caller.meter };
  }

  const noteError = (meter: RequestMeter, error: unknown) => {
    meter.errorCode = error instanceof EnclaveError ? error.code : "internal_error";
  };

  function observe(events: AsyncIterable<GenerationEvent>, meter: RequestMeter): AsyncIterable<GenerationEvent> {
    return observeEvents(events, {
      event(event) {
        // A thought is a generated token too: time to first token counts it.
        if ((event.type === "text" || event.type === "reasoning") && meter.ttftMs == null) meter.ttftMs = now() - meter.admittedAt;
        if (event.type === "done") {
          meter.promptTokens = event.usage.promptTokens;
          meter.cachedTokens = event.usage.cachedTokens ?? 0;
          meter.completionTokens = event.usage.completionTokens;
          meter.draftTokensAccepted = event.usage.draftTokensAccepted ?? null;
          meter.ttftMs ??= now() - meter.admittedAt;
        }
      },
      failed: (error) => noteError(meter, error),
    });
  }

  return decorateEngine(inner, {
    async generate(incoming) {
      const { request, meter } = admit(incoming);
      try {
        return observe(await inner.generate(request), meter);
      } catch (error) {
        noteError(meter, error);
        throw error;
      }
    },
    /** Counting is metered as a request with its model and no tokens: nothing was generated or embedded. */
    async countTokens(incoming) {
      const { request, meter } = admit(incoming);
      try {
        return await inner.countTokens(request);
      } catch (error) {
        noteError(meter, error);
        throw error;
      }
    },
    async embed(incoming) {
      const { request, meter } = admit(incoming);
      try {
        const result = await inner.embed(request);
        meter.promptTokens = result.promptTokens;
        meter.ttftMs = now() - meter.admittedAt;
        return result;
      } catch (error) {
        noteError(meter, error);
        throw error;
      }
    },
  });
}
