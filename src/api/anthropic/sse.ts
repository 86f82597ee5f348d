import type { GenerationEvent } from "../../inference/types";
import { anthropicErrorBody } from "./error-response";
import { messageId, stopReasonOf, toolUseId, usageJson } from "./translate";
import { eventStream } from "../event-stream";

/**
 * Anthropic's streaming events, in its framing (`event: <type>\ndata: {json}\n\n`) and order:
 *
 *   message_start, then per content block content_block_start (the first one followed by ping),
 *   content_block_delta..., content_block_stop; then message_delta (stop_reason, usage) and
 *   message_stop. A failure after the stream began is one `error` event, and the stream ends.
 *
 * Text is one text block, opened by the first text; tool calls arrive whole with the engine's
 * `done` and each becomes a tool_use block whose input is sent as one input_json_delta.
 * `input_tokens` is only known at the end, so message_start says 0 and message_delta carries the
 * real count (Anthropic's SDKs take message_delta's usage as the whole message's).
 */

type DoneEvent = Extract<GenerationEvent, { type: "done" }>;
type StreamEvent = { type: string } & Record<string, unknown>;

const encoder = new TextEncoder();
const frame = (data: StreamEvent) => encoder.encode(`event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`);

export interface MessageStreamMeta {
  requestId: string;
  model: string;
}

function messageEvents(meta: MessageStreamMeta) {
  let index = -1;
  let textOpen = false;
  const start = (content_block: object): StreamEvent[] => {
    index++;
    return [{ type: "content_block_start", index, content_block }, ...(index === 0 ? [{ type: "ping" }] : [])];
  };
  const stop = (): StreamEvent => ({ type: "content_block_stop", index });
  return {
    opening: (): StreamEvent[] => [
      {
        type: "message_start",
        message: {
          id: messageId(meta.requestId),
          type: "message",
          role: "assistant",
          model: meta.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: usageJson({ promptTokens: 0, completionTokens: 0 }),
        },
      },
    ],
    text(text: string): StreamEvent[] {
      if (text === "") return [];
      const opened = textOpen ? [] : start({ type: "text", text: "" });
      textOpen = true;
      return [...opened, { type: "content_block_delta", index, delta: { type: "text_delta", text } }];
    },
    closing(done: DoneEvent) {
      const events: StreamEvent[] = [];
      if (textOpen) events.push(stop());
      else if (done.toolCalls.length === 0) events.push(...start({ type: "text", text: "" }), stop());
      for (const call of done.toolCalls) {
        events.push(...start({ type: "tool_use", id: toolUseId(call), caller: { type: "direct" }, name: call.name, input: {} }));
        events.push({ type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: call.arguments } });
        events.push(stop());
      }
      events.push(
        { type: "message_delta", delta: stopReasonOf(done.finishReason, done.stopSequence), usage: usageJson(done.usage) },
        { type: "message_stop" },
      );
      return events;
    },
  };
}

export const MESSAGE_SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  // Reverse proxies (nginx) must not hold events back.
  "x-accel-buffering": "no",
} as const;

/**
 * The engine's events as Anthropic's event stream (see eventStream); a failure mid-stream is an
 * `error` event in Anthropic's shape.
 */
export function messageStream(events: AsyncIterable<GenerationEvent>, meta: MessageStreamMeta, abort: AbortController): ReadableStream<Uint8Array> {
  const format = messageEvents(meta);
  return eventStream(
    events,
    {
      opening: () => format.opening().map(frame),
      text: (event) => format.text(event.text).map(frame),
      closing: (event) => format.closing(event).map(frame),
      failed: (error) => [frame(anthropicErrorBody(error))],
    },
    abort,
    meta.requestId,
  );
}
