import type { GenerationEvent } from "../../inference/types";
import { anthropicErrorBody } from "./error-response";
import { messageId, stopReasonOf, THINKING_SIGNATURE, thinkingBlockJson, toolUseId, usageJson, type MessageMeta } from "./translate";
import { eventStream } from "../event-stream";

/**
 * Anthropic's streaming events, in its framing (`event: <type>\ndata: {json}\n\n`) and order:
 *
 *   message_start, then per content block content_block_start (the first one followed by ping),
 *   content_block_delta..., content_block_stop; then message_delta (stop_reason, usage) and
 *   message_stop. A failure after the stream began is one `error` event, and the stream ends.
 *
 * A reasoning model's thoughts, when the request turned thinking on, are a thinking block before
 * the text (thinking_delta..., then signature_delta). Text is one text block, opened by the first
 * text; tool calls arrive whole with the engine's `done` and each becomes a tool_use block whose
 * input is sent as one input_json_delta.
 * `input_tokens` is only known at the end, so message_start says 0 and message_delta carries the
 * real count (Anthropic's SDKs take message_delta's usage as the whole message's).
 */

type DoneEvent = Extract<GenerationEvent, { type: "done" }>;
type StreamEvent = { type: string } & Record<string, unknown>;

const encoder = new TextEncoder();
const frame = (data: StreamEvent) => encoder.encode(`event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`);


function messageEvents(meta: MessageMeta) {
  let index = -1;
  /** The block receiving deltas now: thoughts come before the text, each in a block of its own. */
  let open: "thinking" | "text" | null = null;
  let textOpened = false;
  const start = (content_block: object): StreamEvent[] => {
    index++;
    return [{ type: "content_block_start", index, content_block }, ...(index === 0 ? [{ type: "ping" }] : [])];
  };
  const stop = (): StreamEvent => ({ type: "content_block_stop", index });
  // Anthropic sends a thinking block's signature last, just before its content_block_stop.
  const closeOpen = (): StreamEvent[] => {
    const closing: StreamEvent[] = open === "thinking" ? [{ type: "content_block_delta", index, delta: { type: "signature_delta", signature: THINKING_SIGNATURE } }, stop()] : open === "text" ? [stop()] : [];
    open = null;
    return closing;
  };
  const into = (kind: "thinking" | "text"): StreamEvent[] => {
    if (open === kind) return [];
    const events = [...closeOpen(), ...start(kind === "thinking" ? thinkingBlockJson("") : { type: "text", text: "" })];
    open = kind;
    if (kind === "text") textOpened = true;
    return events;
  };
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
      return [...into("text"), { type: "content_block_delta", index, delta: { type: "text_delta", text } }];
    },
    /** Thoughts only when the request turned thinking on; with `display: "omitted"` the block opens without its text. */
    thinking(thinking: string): StreamEvent[] {
      if (thinking === "" || meta.thinking === "none") return [];
      const opened = into("thinking");
      return meta.thinking === "shown" ? [...opened, { type: "content_block_delta", index, delta: { type: "thinking_delta", thinking } }] : opened;
    },
    closing(done: DoneEvent) {
      const events: StreamEvent[] = closeOpen();
      // As in the non-streamed answer: a text block, if empty, unless tool calls are the whole answer.
      if (!textOpened && done.toolCalls.length === 0) events.push(...start({ type: "text", text: "" }), stop());
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
export function messageStream(events: AsyncIterable<GenerationEvent>, meta: MessageMeta, abort: AbortController): ReadableStream<Uint8Array> {
  const format = messageEvents(meta);
  return eventStream(
    events,
    {
      opening: () => format.opening().map(frame),
      text: (event) => format.text(event.text).map(frame),
      reasoning: (event) => format.thinking(event.text).map(frame),
      closing: (event) => format.closing(event).map(frame),
      failed: (error) => [frame(anthropicErrorBody(error))],
    },
    abort,
    meta.requestId,
  );
}
