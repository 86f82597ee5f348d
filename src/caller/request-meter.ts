/**
 * What one request's metering learns while it runs: the model, token counts, time to first token
 * and an engine error code. Numbers, ids and configured model ids only; there is no field a
 * prompt, a completion or a client-supplied string could be put in.
 */
export interface RequestMeter {
  /** When the request was admitted (after its queue wait); time to first token counts from here. */
  readonly admittedAt: number;
  /** A configured model id, or "unknown" for a model the engine does not serve. */
  model: string | null;
  promptTokens: number;
  /** Of promptTokens, those read from the prompt cache. */
  cachedTokens: number;
  completionTokens: number;
  ttftMs: number | null;
  draftTokensAccepted: number | null;
  errorCode: string | null;
}

export function createRequestMeter(admittedAt: number): RequestMeter {
  return { admittedAt, model: null, promptTokens: 0, cachedTokens: 0, completionTokens: 0, ttftMs: null, draftTokensAccepted: null, errorCode: null };
}
