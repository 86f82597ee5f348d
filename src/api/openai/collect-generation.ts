import { ClientClosedRequestError, EngineError } from "../../errors";
import type { GenerationEvent, TokenLogprob } from "../../inference/types";
import type { GeneratedChoice, Generation } from "./translate";

/** Gathers a generation's events into one result, for the non-streaming answers; every choice's text kept apart. */
export async function collectGeneration(events: AsyncIterable<GenerationEvent>, requestId: string, signal: AbortSignal): Promise<Generation> {
  const texts: string[] = [];
  const reasonings: string[] = [];
  const logprobs: TokenLogprob[][] = [];
  for await (const event of events) {
    if (event.type === "text") {
      const choice = event.choice ?? 0;
      texts[choice] = (texts[choice] ?? "") + event.text;
      if (event.logprobs) (logprobs[choice] ??= []).push(...event.logprobs);
    } else if (event.type === "reasoning") {
      const choice = event.choice ?? 0;
      reasonings[choice] = (reasonings[choice] ?? "") + event.text;
    } else {
      const choices: GeneratedChoice[] = (event.choices ?? [event]).map((end, index) => ({
        text: texts[index] ?? "",
        ...(reasonings[index] != null && reasonings[index] !== "" && { reasoning: reasonings[index] }),
        logprobs: logprobs[index] ?? [],
        finishReason: end.finishReason,
        toolCalls: end.toolCalls,
        ...(end.stopSequence != null && { stopSequence: end.stopSequence }),
      }));
      return { ...choices[0]!, usage: event.usage, choices };
    }
  }
  // A stream cut short by the client's leaving is its doing; otherwise the engine promised one `done`.
  if (signal.aborted) throw new ClientClosedRequestError();
  throw new EngineError(requestId);
}
