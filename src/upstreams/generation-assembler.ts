import { z } from "zod";
import type { FinishReason, GenerationEvent, TokenLogprob, ToolCall, Usage } from "../inference/types";

const TopLogprob = z.object({ token: z.string(), logprob: z.number() });

/** The parts of a chat or text completion chunk the engine's events are built from; the rest is ignored. */
const CompletionChunk = z.object({
  choices: z
    .array(
      z.object({
        index: z.number().nullish(),
        delta: z
          .object({
            content: z.string().nullish(),
            tool_calls: z
              .array(
                z.object({
                  index: z.number().default(0),
                  id: z.string().nullish(),
                  function: z.object({ name: z.string().nullish(), arguments: z.string().nullish() }).nullish(),
                }),
              )
              .nullish(),
          })
          .nullish(),
        text: z.string().nullish(),
        logprobs: z
          // Text completions' legacy shape first: the chat shape's optional `content` would match anything.
          .union([
            z.object({
              tokens: z.array(z.string()),
              token_logprobs: z.array(z.number().nullable()),
              top_logprobs: z.array(z.record(z.string(), z.number()).nullable()).nullish(),
            }),
            z.object({ content: z.array(TopLogprob.extend({ top_logprobs: z.array(TopLogprob).nullish() })).nullish() }),
          ])
          .nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .nullish(),
  usage: z.object({ prompt_tokens: z.number(), completion_tokens: z.number() }).nullish(),
  error: z.unknown().optional(),
});

export type ChunkVerdict =
  | { kind: "event"; event: Extract<GenerationEvent, { type: "text" }> }
  | { kind: "none" }
  /** The upstream reported an error inside the stream. */
  | { kind: "error" }
  /** Not a completion chunk at all. */
  | { kind: "malformed" };

/**
 * Turns an upstream's OpenAI stream, chunk by chunk, back into the engine's events: each content
 * delta becomes a text event at once; tool-call fragments, the finish reason and usage are
 * gathered for the one `done` event. Choices other than the first are ignored (we ask for one).
 */
export function createGenerationAssembler() {
  const toolCalls = new Map<number, { id: string; name: string; arguments: string }>();
  let finishReason: string | null = null;
  let usage: Usage | null = null;
  let textChunks = 0;

  return {
    push(data: string): ChunkVerdict {
      let json: unknown;
      try {
        json = JSON.parse(data);
      } catch {
        return { kind: "malformed" };
      }
      const parsed = CompletionChunk.safeParse(json);
      if (!parsed.success) return { kind: "malformed" };
      const chunk = parsed.data;
      if (chunk.error != null) return { kind: "error" };
      if (chunk.usage != null) usage = { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens };
      const choice = chunk.choices?.find((candidate) => (candidate.index ?? 0) === 0);
      if (choice == null) return { kind: "none" };
      if (choice.finish_reason != null) finishReason = choice.finish_reason;
      for (const fragment of choice.delta?.tool_calls ?? []) {
        const call = toolCalls.get(fragment.index) ?? { id: "", name: "", arguments: "" };
        if (fragment.id) call.id = fragment.id;
        if (fragment.function?.name) call.name += fragment.function.name;
        if (fragment.function?.arguments) call.arguments += fragment.function.arguments;
        toolCalls.set(fragment.index, call);
      }
      const text = choice.delta?.content ?? choice.text ?? "";
      const logprobs = logprobsOf(choice.logprobs);
      if (text === "" && logprobs == null) return { kind: "none" };
      textChunks++;
      return { kind: "event", event: { type: "text", text, ...(logprobs != null && { logprobs }) } };
    },

    /** The `done` event, or null when the stream never said how it finished (it broke off). */
    finish(): Extract<GenerationEvent, { type: "done" }> | null {
      if (finishReason == null) return null;
      const calls: ToolCall[] = [...toolCalls.entries()].sort(([a], [b]) => a - b).map(([, call]) => call);
      return {
        type: "done",
        finishReason: toFinishReason(finishReason, calls.length > 0),
        toolCalls: calls,
        // An upstream that ignores stream_options sends no usage: count its chunks, know no prompt size.
        usage: usage ?? { promptTokens: 0, completionTokens: textChunks },
      };
    },
  };
}

function toFinishReason(reason: string, hasToolCalls: boolean): FinishReason {
  if (reason === "length") return "length";
  if (reason === "tool_calls" || reason === "function_call" || hasToolCalls) return "tool_calls";
  return "stop";
}

type ChunkLogprobs = NonNullable<NonNullable<z.infer<typeof CompletionChunk>["choices"]>[number]["logprobs"]>;

function logprobsOf(logprobs: ChunkLogprobs | null | undefined): TokenLogprob[] | null {
  if (logprobs == null) return null;
  if ("tokens" in logprobs) {
    return logprobs.tokens.map((token, index) => ({
      token,
      logprob: logprobs.token_logprobs[index] ?? 0,
      top: Object.entries(logprobs.top_logprobs?.[index] ?? {}).map(([alternative, logprob]) => ({ token: alternative, logprob })),
    }));
  }
  if (logprobs.content == null || logprobs.content.length === 0) return null;
  return logprobs.content.map((entry) => ({
    token: entry.token,
    logprob: entry.logprob,
    top: (entry.top_logprobs ?? []).map((alternative) => ({ token: alternative.token, logprob: alternative.logprob })),
  }));
}
