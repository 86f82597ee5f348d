import type { GenerationRequest, Sampling } from "../../src/inference/types";

/** A complete engine request with plain defaults (greedy, text prompt); tests override what they vary. */
export function generationRequest(overrides: Partial<Omit<GenerationRequest, "sampling">> & { sampling?: Partial<Sampling> } = {}): GenerationRequest {
  const { sampling, ...rest } = overrides;
  return {
    requestId: "req-test",
    model: "fake",
    input: { kind: "text", prompt: "count: 1 2 3" },
    responseFormat: { type: "text" },
    topLogprobs: null,
    signal: new AbortController().signal,
    waitForModel: true,
    ...rest,
    sampling: { maxTokens: 16, temperature: 0, topP: 1, stop: [], presencePenalty: 0, frequencyPenalty: 0, logitBias: {}, ...sampling },
  };
}
