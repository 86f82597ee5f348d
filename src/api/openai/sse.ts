import { EnclaveError, EngineError } from "../../errors";
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

/** How one endpoint turns engine events into chunks. */
export interface ChunkFormat {
  opening(): unknown[];
  text(event: TextEvent): unknown[];
  closing(event: DoneEvent): unknown[];
}

export interface StreamOptions {
  meta: ResponseMeta;
  includeUsage: boolean;
  wantLogprobs: boolean;
}

export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  // Reverse proxies (nginx) must not hold chunks back.
  "x-accel-buffering": "no",
} as const;

export function chatChunkFormat({ meta, includeUsage, wantLogprobs }: StreamOptions): ChunkFormat {
  const chunk = (choices: unknown[]) => ({
    id: chatCompletionId(meta.requestId),
    object: "chat.completion.chunk",
    created: meta.created,
    model: meta.model,
    choices,
    ...(includeUsage && { usage: null }),
  });
  const choice = (delta: object, logprobs: unknown = null, finishReason: string | null = null) => ({
    index: 0,
    delta,
    logprobs,
    finish_reason: finishReason,
  });
  return {
    opening: () => [chunk([choice({ role: "assistant", content: "", refusal: null })])],
    text: (event) =>
      event.text === "" && !event.logprobs?.length
        ? []
        : [chunk([choice({ content: event.text }, wantLogprobs ? chatLogprobsJson(event.logprobs ?? []) : null)])],
    closing: (event) => [
      ...toolCallsJson(event.toolCalls).map((call, index) => chunk([choice({ tool_calls: [{ index, ...call }] })])),
      chunk([choice({}, null, event.finishReason)]),
      ...(includeUsage ? [{ ...chunk([]), usage: usageJson(event.usage) }] : []),
    ],
  };
}

export function textChunkFormat({ meta, includeUsage, wantLogprobs }: StreamOptions, promptLength: number): ChunkFormat {
  let offset = promptLength;
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
      const logprobs = wantLogprobs ? completionLogprobsJson(event.logprobs ?? [], offset) : null;
      offset += event.text.length;
      return [chunk([{ text: event.text, index: 0, logprobs, finish_reason: null }])];
    },
    closing: (event) => [
      chunk([{ text: "", index: 0, logprobs: null, finish_reason: completionFinishReason(event.finishReason) }]),
      ...(includeUsage ? [{ ...chunk([]), usage: usageJson(event.usage) }] : []),
    ],
  };
}

const encoder = new TextEncoder();
const frame = (data: unknown) => encoder.encode(`data: ${JSON.stringify(data)}\n\n`);
const DONE = encoder.encode("data: [DONE]\n\n");

/**
 * The `{error:{...}}` event for a failure after the stream began (the status line is long gone):
 * the body the app's error handler would have sent, so the wire shape has one source. Anything
 * that is not an EnclaveError is reported as an EngineError, never with its own message.
 */
async function errorEvent(error: unknown, requestId: string): Promise<Uint8Array> {
  const known = error instanceof EnclaveError ? error : new EngineError(requestId);
  return encoder.encode(`data: ${await errorResponse(known).text()}\n\n`);
}

/**
 * The engine's events as an SSE byte stream. Chunks are produced on demand, so a slow client
 * slows generation instead of filling memory. When the client goes away, `cancel()` aborts the
 * generation through `abort`. A failure mid-stream is sent as one `data: {"error":...}` event and
 * the stream ends without `[DONE]`.
 */
export function sseStream(
  events: AsyncIterable<GenerationEvent>,
  format: ChunkFormat,
  abort: AbortController,
  requestId: string,
): ReadableStream<Uint8Array> {
  const iterator = events[Symbol.asyncIterator]();
  const release = () => void iterator.return?.()?.catch(() => {});
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        for (const c of format.opening()) controller.enqueue(frame(c));
      },
      async pull(controller) {
        try {
          // Loop until something is sent: an empty text event produces no chunk.
          for (;;) {
            const step = await iterator.next();
            if (step.done) throw new EngineError(requestId);
            const event = step.value;
            if (event.type === "text") {
              const chunks = format.text(event);
              for (const c of chunks) controller.enqueue(frame(c));
              if (chunks.length > 0) return;
              continue;
            }
            for (const c of format.closing(event)) controller.enqueue(frame(c));
            controller.enqueue(DONE);
            controller.close();
            release();
            return;
          }
        } catch (error) {
          try {
            if (!abort.signal.aborted) controller.enqueue(await errorEvent(error, requestId));
            controller.close();
          } catch {
            // Cancelled meanwhile: the client is gone and there is no one to tell.
          }
          release();
        }
      },
      cancel() {
        abort.abort();
        release();
      },
    },
    { highWaterMark: 0 },
  );
}
