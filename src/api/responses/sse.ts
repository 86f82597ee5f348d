import type { EnclaveError } from "../../errors";
import { eventStream } from "../event-stream";
import type { GenerationEvent, ToolCall } from "../../inference/types";
import type { ResponsesRequest } from "./model";
import {
  functionCallItemJson,
  itemStatus,
  messageItemId,
  messageItemJson,
  outputTextJson,
  reasoningItemId,
  reasoningItemJson,
  reasoningStatus,
  reasoningTextJson,
  responseJson,
  type ResponseMeta,
} from "./translate";

/**
 * The Responses API's typed stream: each event is `event: <type>\ndata: <json>\n\n` and carries
 * its `type` and a `sequence_number` counting from 0; there is no `[DONE]`, the stream ends with
 * response.completed, response.incomplete or response.failed. The order follows OpenAI's
 * reference (https://platform.openai.com/docs/api-reference/responses-streaming): created,
 * in_progress, then per output item added -> (content part added -> text deltas -> text done ->
 * content part done | arguments delta -> arguments done) -> item done, then the terminal event.
 * A reasoning model's thoughts are the first item, `reasoning`, its text as reasoning_text deltas.
 */

type TextEvent = Extract<GenerationEvent, { type: "text" }>;
type ReasoningEvent = Extract<GenerationEvent, { type: "reasoning" }>;
type DoneEvent = Extract<GenerationEvent, { type: "done" }>;
type Payload = { type: string } & Record<string, unknown>;

/** The finished answer, for storage: the final response object and what was generated. */
export type FinishedStream = (response: Record<string, unknown>, generation: { text: string; toolCalls: ToolCall[] }) => void;

/** Turns engine events into Responses events, numbering them; one per request. */
export function responseEventFormat(body: ResponsesRequest, meta: ResponseMeta, finished?: FinishedStream) {
  const { requestId } = meta;
  let sequence = 0;
  const event = (type: string, fields: Record<string, unknown>) => ({ type, sequence_number: sequence++, ...fields }) as Payload;
  const itemId = messageItemId(requestId);
  const thoughtsId = reasoningItemId(requestId);
  /** Output items finished so far, for the final (or failed) response object. */
  const output: unknown[] = [];
  let text = "";
  let thoughts = "";
  let messageOpen = false;
  let reasoningOpen = false;
  /** The message's place in `output`: after the reasoning item when the model thought first. */
  let messageIndex = 0;

  function openReasoning(): Payload[] {
    reasoningOpen = true;
    const where = { item_id: thoughtsId, output_index: output.length, content_index: 0 };
    return [
      event("response.output_item.added", { output_index: output.length, item: reasoningItemJson(requestId, "", "in_progress") }),
      event("response.content_part.added", { ...where, part: reasoningTextJson("") }),
    ];
  }

  function closeReasoning(status: "completed" | "incomplete"): Payload[] {
    if (!reasoningOpen) return [];
    reasoningOpen = false;
    const where = { item_id: thoughtsId, output_index: output.length, content_index: 0 };
    const item = reasoningItemJson(requestId, thoughts, status);
    const events = [
      event("response.reasoning_text.done", { ...where, text: thoughts }),
      event("response.content_part.done", { ...where, part: reasoningTextJson(thoughts) }),
      event("response.output_item.done", { output_index: output.length, item }),
    ];
    output.push(item);
    return events;
  }

  function openMessage(): Payload[] {
    messageOpen = true;
    messageIndex = output.length;
    return [
      event("response.output_item.added", { output_index: messageIndex, item: messageItemJson(requestId, "", "in_progress") }),
      event("response.content_part.added", { item_id: itemId, output_index: messageIndex, content_index: 0, part: outputTextJson("") }),
    ];
  }

  function closeMessage(status: "completed" | "incomplete"): Payload[] {
    const item = messageItemJson(requestId, text, status);
    output.push(item);
    const where = { item_id: itemId, output_index: messageIndex, content_index: 0 };
    return [
      event("response.output_text.done", { ...where, text, logprobs: [] }),
      event("response.content_part.done", { ...where, part: outputTextJson(text) }),
      event("response.output_item.done", { output_index: messageIndex, item }),
    ];
  }

  return {
    opening(): Payload[] {
      const response = responseJson(body, meta, { status: "in_progress", output: [], usage: null });
      return [event("response.created", { response }), event("response.in_progress", { response })];
    },

    /** The model's thoughts, before its answer: one reasoning item, closed when the answer begins. */
    reasoning(generated: ReasoningEvent): Payload[] {
      // Thoughts after the answer began have no item to go to; they are not sent.
      if (generated.text === "" || messageOpen || output.length > 0) return [];
      const opened = reasoningOpen ? [] : openReasoning();
      thoughts += generated.text;
      return [...opened, event("response.reasoning_text.delta", { item_id: thoughtsId, output_index: 0, content_index: 0, delta: generated.text })];
    },

    text(generated: TextEvent): Payload[] {
      if (generated.text === "") return [];
      const opened = messageOpen ? [] : [...closeReasoning("completed"), ...openMessage()];
      text += generated.text;
      return [...opened, event("response.output_text.delta", { item_id: itemId, output_index: messageIndex, content_index: 0, delta: generated.text, logprobs: [] })];
    },

    closing(done: DoneEvent): Payload[] {
      const status = done.finishReason === "length" ? "incomplete" : "completed";
      const events: Payload[] = closeReasoning(reasoningStatus({ text, toolCalls: done.toolCalls, finishReason: done.finishReason }));
      // Without text a message still opens unless tool calls are the whole answer, as in the non-streamed output.
      if (messageOpen || done.toolCalls.length === 0) events.push(...(messageOpen ? [] : openMessage()), ...closeMessage(itemStatus(done, null)));
      done.toolCalls.forEach((call, index) => {
        const outputIndex = output.length;
        const item = functionCallItemJson(requestId, call, index, itemStatus(done, index));
        // The engine hands over a call's arguments whole, so they come as one delta.
        events.push(
          event("response.output_item.added", { output_index: outputIndex, item: functionCallItemJson(requestId, call, index, "in_progress") }),
          event("response.function_call_arguments.delta", { item_id: item.id, output_index: outputIndex, delta: call.arguments }),
          event("response.function_call_arguments.done", { item_id: item.id, output_index: outputIndex, arguments: call.arguments }),
          event("response.output_item.done", { output_index: outputIndex, item }),
        );
        output.push(item);
      });
      const response = responseJson(body, meta, { status, output, usage: done.usage });
      finished?.(response, { text, toolCalls: done.toolCalls });
      events.push(event(status === "completed" ? "response.completed" : "response.incomplete", { response }));
      return events;
    },

    /** A failure after the stream began: the response as far as it got, with the error (never an internal message). */
    failed(error: EnclaveError): Payload[] {
      const response = responseJson(body, meta, { status: "failed", output, usage: null, error: { code: error.code, message: error.message } });
      return [event("response.failed", { response })];
    },
  };
}

export type ResponseEventFormat = ReturnType<typeof responseEventFormat>;

const encoder = new TextEncoder();
const frame = (payload: Payload) => encoder.encode(`event: ${payload.type}\ndata: ${JSON.stringify(payload)}\n\n`);

/** The Responses API's typed events as an SSE byte stream (see eventStream); a failure ends it with `response.failed`. */
export function responseSseStream(events: AsyncIterable<GenerationEvent>, format: ResponseEventFormat, abort: AbortController, requestId: string): ReadableStream<Uint8Array> {
  return eventStream(
    events,
    {
      opening: () => format.opening().map(frame),
      text: (event) => format.text(event).map(frame),
      reasoning: (event) => format.reasoning(event).map(frame),
      closing: (event) => format.closing(event).map(frame),
      failed: (error) => format.failed(error).map(frame),
    },
    abort,
    requestId,
  );
}
