import { EnclaveError, EngineError } from "../../errors";
import type { GenerationEvent } from "../../inference/types";
import { anthropicErrorBody } from "./error-response";
import { messageId, stopReasonOf, usageJson } from "./translate";

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
        events.push(...start({ type: "tool_use", id: call.id, name: call.name, input: {} }));
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
 * The engine's events as Anthropic's event stream, produced on demand (a slow client slows
 * generation). When the client goes away, `cancel()` aborts the generation through `abort`.
 * Anything that is not an EnclaveError is reported as an EngineError, never with its own message.
 */
export function messageStream(events: AsyncIterable<GenerationEvent>, meta: MessageStreamMeta, abort: AbortController): ReadableStream<Uint8Array> {
  const format = messageEvents(meta);
  const iterator = events[Symbol.asyncIterator]();
  const release = () => void iterator.return?.()?.catch(() => {});
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        for (const event of format.opening()) controller.enqueue(frame(event));
      },
      async pull(controller) {
        try {
          for (;;) {
            const step = await iterator.next();
            if (step.done) throw new EngineError(meta.requestId);
            const event = step.value;
            if (event.type === "text") {
              const out = format.text(event.text);
              for (const e of out) controller.enqueue(frame(e));
              if (out.length > 0) return;
              continue;
            }
            for (const e of format.closing(event)) controller.enqueue(frame(e));
            controller.close();
            release();
            return;
          }
        } catch (error) {
          try {
            const known = error instanceof EnclaveError ? error : new EngineError(meta.requestId);
            if (!abort.signal.aborted) controller.enqueue(frame(anthropicErrorBody(known)));
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
