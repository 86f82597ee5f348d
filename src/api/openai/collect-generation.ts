import { ClientClosedRequestError, EngineError } from "../../errors";
import type { GenerationEvent, TokenLogprob } from "../../inference/types";
import type { Generation } from "./translate";

/** Gathers a generation's events into one result, for the non-streaming answers. */
export async function collectGeneration(events: AsyncIterable<GenerationEvent>, requestId: string, signal: AbortSignal): Promise<Generation> {
  let text = "";
  let reasoning = "";
  const logprobs: TokenLogprob[] = [];
  for await (const event of events) {
    if (event.type === "text") {
      text += event.text;
      if (event.logprobs) logprobs.push(...event.logprobs);
    } else if (event.type === "reasoning") {
      reasoning += event.text;
    } else {
      return { text, ...(reasoning !== "" && { reasoning }), logprobs, finishReason: event.finishReason, toolCalls: event.toolCalls, usage: event.usage, ...(event.stopSequence != null && { stopSequence: event.stopSequence }) };
    }
  }
  // A stream cut short by the client's leaving is its doing; otherwise the engine promised one `done`.
  if (signal.aborted) throw new ClientClosedRequestError();
  throw new EngineError(requestId);
}
