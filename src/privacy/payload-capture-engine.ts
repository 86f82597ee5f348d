import { requireCaller } from "../caller/require-caller";
import { decorateEngine } from "../inference/decorate-engine";
import type { Engine } from "../inference/engine";
import { observeEvents } from "../inference/observe-events";
import type { EmbeddingRequest, GenerationEvent, GenerationRequest } from "../inference/types";
import type { Logger } from "../logging/logger";
import type { PayloadDecision, RequestSubject } from "./payload-policy";
import type { PayloadContent, PayloadStore } from "./payload-store";

export interface PayloadCaptureDeps {
  store: PayloadStore;
  /** Whether and how this request's payload may be kept (consent, overrides, global mode). */
  decide: (subject: RequestSubject | null) => Promise<PayloadDecision>;
  logger: Logger;
}

/**
 * The one place payloads can be retained: an Engine decorator that sees each GenerationRequest and
 * the events it produces. Under ZDR (the default) it hands the inner engine's stream back
 * untouched, holding nothing. Otherwise it collects the completion in memory and, when the
 * generation completes (`done`), stores request + completion encrypted. A generation that fails,
 * is aborted or overflows the context is not kept. Storage failures are logged by error class
 * only and never fail the request.
 */
export function createPayloadCaptureEngine(inner: Engine, deps: PayloadCaptureDeps): Engine {
  const { store, logger } = deps;

  type Capture = { decided: Exclude<PayloadDecision, { mode: "none" }>; subject: RequestSubject | null };

  /** Whether this request's payload may be kept: its caller's account decides (consent, overrides), so a request without one is refused. */
  async function decision(request: GenerationRequest | EmbeddingRequest): Promise<Capture | null> {
    const caller = requireCaller(request, "payload retention");
    const subject = { accountId: caller.account.id, keyId: caller.key.id };
    const decided = await deps.decide(subject);
    if (decided.mode === "none") return null;
    if (!store.canCapture) {
      logger.warn({ requestId: request.requestId }, "payload retention applies but no [retention] payload key is configured; payload not kept");
      return null;
    }
    return { decided, subject };
  }

  /** Not awaited: the client's answer does not wait for the write. */
  function keep(requestId: string, model: string, capture: Capture, content: PayloadContent) {
    store.capture(capture.decided, { requestId, model, subject: capture.subject }, content).catch((error: unknown) => {
      logger.error({ requestId, err: { type: (error as Error)?.name ?? typeof error } }, "payload retention write failed");
    });
  }

  function observe(events: AsyncIterable<GenerationEvent>, request: GenerationRequest, capture: Capture): AsyncIterable<GenerationEvent> {
    let texts: string[] = [];
    return observeEvents(events, {
      event(event) {
        if (event.type === "text") texts[event.choice ?? 0] = (texts[event.choice ?? 0] ?? "") + event.text;
        else if (event.type === "done") {
          const [first, ...others] = (event.choices ?? [event]).map((end, index) => ({ text: texts[index] ?? "", toolCalls: end.toolCalls, finishReason: end.finishReason }));
          keep(request.requestId, request.model, capture, {
            kind: "generation",
            input: request.input,
            output: { ...first!, ...(others.length > 0 && { alternatives: others }) },
          });
        }
      },
      ended: () => {
        texts = [];
      },
    });
  }

  return decorateEngine(inner, {
    async generate(request) {
      const capture = await decision(request);
      const events = await inner.generate(request);
      return capture == null ? events : observe(events, request, capture);
    },
    async embed(request) {
      const capture = await decision(request);
      const result = await inner.embed(request);
      if (capture != null) keep(request.requestId, request.model, capture, { kind: "embedding", inputs: request.inputs });
      return result;
    },
  });
}
