import { eventStream } from "../event-stream";
import { errorResponse } from "../error-response";
import type { GenerationEvent } from "../../inference/types";
import {
  chatCompletionId,
  chatLogprobsJson,
  completionFinishReason,
  completionId,
  completionLogprobsJson,
  toolCallsJson,
  usageJson,
  type ResponseMeta,
} from "./translate";

/**
 * Server-sent events in OpenAI's exact framing: `data: {json}\n\n` per chunk, then `data: [DONE]`.
 * No `event:` or `id:` lines, no comments: the bytes are what OpenAI's SDKs parse.
 */

type TextEvent = Extract<GenerationEvent, { type: "text" }>;
type DoneEvent = Extract<GenerationEvent, { type: "done" }>;
type ReasoningEvent = Extract<GenerationEvent, { type: "reasoning" }>;

/** How one endpoint turns engine events into chunks. */
export interface ChunkFormat {
  opening(): unknown[];
  text(event: TextEvent): unknown[];
  /** Absent: the endpoint has no place for thoughts (a text prompt has none to give). */
  reasoning?(event: ReasoningEvent): unknown[];
  closing(event: DoneEvent): unknown[];
}

export interface StreamOptions {
  meta: ResponseMeta;
  includeUsage: boolean;
  wantLogprobs: boolean;
  /** OpenAI's `n`: the choices the stream interleaves, each chunk naming its index. */
  choices: number;
}

/** Every choice's end from the one `done`, in index order. */
const endsOf = (event: DoneEvent) => event.choices ?? [event];

export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  // Reverse proxies (nginx) must not hold chunks back.
  "x-accel-buffering": "no",
} as const;

export function chatChunkFormat({ meta, includeUsage, wantLogprobs, choices }: StreamOptions): ChunkFormat {
  const chunk = (choices: unknown[]) => ({
    id: chatCompletionId(meta.requestId),
    object: "chat.completion.chunk",
    created: meta.created,
    model: meta.model,
    choices,
    ...(includeUsage && { usage: null }),
  });
  const choice = (index: number, delta: object, logprobs: unknown = null, finishReason: string | null = null) => ({
    index,
    delta,
    logprobs,
    finish_reason: finishReason,
  });
  return {
    opening: () => Array.from({ length: choices }, (_, index) => chunk([choice(index, { role: "assistant", content: "", refusal: null })])),
    text: (event) =>
      event.text === "" && !event.logprobs?.length
        ? []
        : [chunk([choice(event.choice ?? 0, { content: event.text }, wantLogprobs ? chatLogprobsJson(event.logprobs ?? []) : null)])],
    reasoning: (event) => [chunk([choice(event.choice ?? 0, { reasoning_content: event.text })])],
    closing: (event) => [
      ...endsOf(event).flatMap((end, index) => [
        ...toolCallsJson(end.toolCalls).map((call, callIndex) => chunk([choice(index, { tool_calls: [{ index: callIndex, ...call }] })])),
        chunk([choice(index, {}, null, end.finishReason)]),
      ]),
      ...(includeUsage ? [{ ...chunk([]), usage: usageJson(event.usage) }] : []),
    ],
  };
}

export function textChunkFormat({ meta, includeUsage, wantLogprobs, choices }: StreamOptions, promptLength: number): ChunkFormat {
  const offsets: number[] = Array.from({ length: choices }, () => promptLength);
  const chunk = (choices: unknown[]) => ({
    id: completionId(meta.requestId),
    object: "text_completion",
    created: meta.created,
    model: meta.model,
    choices,
    ...(includeUsage && { usage: null }),
  });
  return {
    opening: () => [],
    text: (event) => {
      if (event.text === "" && !event.logprobs?.length) return [];
      const index = event.choice ?? 0;
      const logprobs = wantLogprobs ? completionLogprobsJson(event.logprobs ?? [], offsets[index] ?? promptLength) : null;
      offsets[index] = (offsets[index] ?? promptLength) + event.text.length;
      return [chunk([{ text: event.text, index, logprobs, finish_reason: null }])];
    },
    closing: (event) => [
      ...endsOf(event).map((end, index) => chunk([{ text: "", index, logprobs: null, finish_reason: completionFinishReason(end.finishReason) }])),
      ...(includeUsage ? [{ ...chunk([]), usage: usageJson(event.usage) }] : []),
    ],
  };
}

const encoder = new TextEncoder();
const frame = (data: unknown) => encoder.encode(`data: ${JSON.stringify(data)}\n\n`);
const DONE = encoder.encode("data: [DONE]\n\n");

/**
 * The engine's events as OpenAI's SSE byte stream (see eventStream). A failure mid-stream is sent
 * as one `data: {"error":...}` event, the body the app's error handler would have sent, and the
 * stream ends without `[DONE]`.
 */
export function sseStream(events: AsyncIterable<GenerationEvent>, format: ChunkFormat, abort: AbortController, requestId: string): ReadableStream<Uint8Array> {
  return eventStream(
    events,
    {
      opening: () => format.opening().map(frame),
      text: (event) => format.text(event).map(frame),
      reasoning: (event) => (format.reasoning?.(event) ?? []).map(frame),
      closing: (event) => [...format.closing(event).map(frame), DONE],
      failed: async (error) => [encoder.encode(`data: ${await errorResponse(error).text()}\n\n`)],
    },
    abort,
    requestId,
  );
}
