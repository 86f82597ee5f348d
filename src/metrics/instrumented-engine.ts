import { EnclaveError } from "../errors";
import { decorateEngine } from "../inference/decorate-engine";
import type { Engine } from "../inference/engine";
import { createModelLabel } from "../inference/model-label";
import { observeEvents } from "../inference/observe-events";
import type { GenerationEvent } from "../inference/types";

export type EngineOutcome = "completed" | "cancelled" | "failed";

/** One generation as metrics see it: a model id, timings and counts; never text. */
export interface GenerationRecord {
  model: string;
  outcome: EngineOutcome;
  /** generate() call to its first text (or its `done`, when no text came). */
  ttftSeconds: number | null;
  /** generate() call to the end of the stream. */
  e2eSeconds: number;
  promptTokens: number;
  /** Of promptTokens, those read from the prompt cache; null where the engine keeps none (an upstream). */
  cachedTokens: number | null;
  completionTokens: number;
  /** First text to `done`: the decode time of completionTokens - 1 tokens; null without both. */
  decodeSeconds: number | null;
}

/** What the decorator reports; the metrics registry implements it, tests can record it. */
export interface EngineObserver {
  /** A request reached the engine (it now counts as in flight). */
  started(model: string, kind: "generate" | "embed"): void;
  /** The engine refused it before a stream began (queue full, model missing, context too long...). */
  rejected(model: string, kind: "generate" | "embed", code: string): void;
  /** generate() resolved: the request holds a sequence; `seconds` it waited for one (and for the model). */
  admitted(model: string, seconds: number): void;
  finished(record: GenerationRecord): void;
  embedded(model: string, record: { seconds: number; promptTokens: number }): void;
  /** The default model finished loading in start(). */
  loaded(model: string, seconds: number): void;
}

/**
 * An Engine that reports timings and token counts of every request to an observer: admission
 * wait, time to first token, decode time, end-to-end time, outcome. Like the metered engine it
 * looks at events as they pass and keeps none of their text; return() is forwarded at once so the
 * engine frees its sequence even if iteration never began.
 */
export function createInstrumentedEngine(inner: Engine, observer: EngineObserver, now: () => number = () => performance.now()): Engine {
  const label = createModelLabel(inner);
  const codeOf = (error: unknown) => (error instanceof EnclaveError ? error.code : "internal_error");

  function observe(events: AsyncIterable<GenerationEvent>, model: string, calledAt: number): AsyncIterable<GenerationEvent> {
    let firstTextAt: number | null = null;
    let ended = false;
    const finish = (outcome: EngineOutcome, done?: Extract<GenerationEvent, { type: "done" }>) => {
      if (ended) return;
      ended = true;
      const at = now();
      const firstAt = firstTextAt ?? (done != null ? at : null);
      observer.finished({
        model,
        outcome,
        ttftSeconds: firstAt == null ? null : (firstAt - calledAt) / 1000,
        e2eSeconds: (at - calledAt) / 1000,
        promptTokens: done?.usage.promptTokens ?? 0,
        cachedTokens: done?.usage.cachedTokens ?? null,
        completionTokens: done?.usage.completionTokens ?? 0,
        decodeSeconds: done != null && firstTextAt != null ? (at - firstTextAt) / 1000 : null,
      });
    };
    return observeEvents(events, {
      event(event) {
        // A thought is a generated token too: time to first token counts it, as llama-server does.
        if (event.type === "text" || event.type === "reasoning") firstTextAt ??= now();
        else if (event.type === "done") finish("completed", event);
      },
      failed: () => finish("failed"),
      ended: () => finish("cancelled"),
    });
  }

  return decorateEngine(inner, {
    async start() {
      const startedAt = now();
      await inner.start();
      const model = inner.models().find((status) => status.isDefault);
      if (model != null) observer.loaded(model.id, (now() - startedAt) / 1000);
    },
    async generate(request) {
      const model = label(request.model);
      const calledAt = now();
      observer.started(model, "generate");
      let events: AsyncIterable<GenerationEvent>;
      try {
        events = await inner.generate(request);
      } catch (error) {
        observer.rejected(model, "generate", codeOf(error));
        throw error;
      }
      observer.admitted(model, (now() - calledAt) / 1000);
      return observe(events, model, calledAt);
    },
    async embed(request) {
      const model = label(request.model);
      const calledAt = now();
      observer.started(model, "embed");
      let result;
      try {
        result = await inner.embed(request);
      } catch (error) {
        observer.rejected(model, "embed", codeOf(error));
        throw error;
      }
      observer.embedded(model, { seconds: (now() - calledAt) / 1000, promptTokens: result.promptTokens });
      return result;
    },
  });
}
