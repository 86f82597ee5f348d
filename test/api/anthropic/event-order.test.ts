import { describe, expect, test } from "bun:test";
import { request } from "../../support/test-app";
import { anthropicApp, sseEvents } from "./harness";

/**
 * Reference sequences written from Anthropic's public streaming reference,
 * https://platform.claude.com/docs/en/build-with-claude/streaming (formerly
 * https://docs.anthropic.com/en/docs/build-with-claude/streaming), "Event types" and its
 * "Basic streaming request" / "Streaming request with tool use" examples: message_start (a Message
 * with empty content), then per content block content_block_start, content_block_delta...,
 * content_block_stop (a ping after the first block's start in those examples), then message_delta
 * (stop_reason, stop_sequence, cumulative usage) and message_stop. Ids, texts and counts are ours.
 */
const TEXT_REFERENCE = [
  ["message_start", { type: "message_start", message: { type: "message", role: "assistant", content: [], model: "fake", stop_reason: null, stop_sequence: null } }],
  ["content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }],
  ["ping", { type: "ping" }],
  ["content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: " 4" } }],
  ["content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: " 5" } }],
  ["content_block_stop", { type: "content_block_stop", index: 0 }],
  ["message_delta", { type: "message_delta", delta: { stop_reason: "max_tokens", stop_sequence: null }, usage: { output_tokens: 2 } }],
  ["message_stop", { type: "message_stop" }],
] as const;

const TOOL_REFERENCE = [
  ["message_start", { type: "message_start", message: { type: "message", role: "assistant", content: [] } }],
  ["content_block_start", { type: "content_block_start", index: 0, content_block: { type: "tool_use", name: "get_weather", input: {} } }],
  ["ping", { type: "ping" }],
  ["content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json: '{"city":"text"}' } }],
  ["content_block_stop", { type: "content_block_stop", index: 0 }],
  ["message_delta", { type: "message_delta", delta: { stop_reason: "tool_use", stop_sequence: null } }],
  ["message_stop", { type: "message_stop" }],
] as const;

const tool = { name: "get_weather", input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } };

async function streamed(json: unknown, fake = {}) {
  const { app } = anthropicApp(fake);
  const response = await app.handle(request("/v1/messages", { method: "POST", json, headers: { "x-api-key": "unused", "anthropic-version": "2023-06-01" } }));
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toStartWith("text/event-stream");
  return sseEvents(await response.text());
}

function expectSequence(events: { event: string; data: unknown }[], reference: readonly (readonly [string, object])[]) {
  expect(events.map((e) => e.event)).toEqual(reference.map(([name]) => name));
  // Each `event:` line names the type its data carries.
  for (const e of events) expect((e.data as { type: string }).type).toBe(e.event);
  reference.forEach(([, shape], i) => expect(events[i]!.data).toMatchObject(shape));
}

describe("Messages streaming event order", () => {
  test("Should stream text in Anthropic's order and shapes - as the reference sequence", async () => {
    const events = await streamed({ model: "fake", max_tokens: 2, stream: true, messages: [{ role: "user", content: "count 1 2 3" }] });
    expectSequence(events, TEXT_REFERENCE);
    expect(events[0]!.data.message.id).toMatch(/^msg_/);
    expect(events.at(-2)!.data.usage).toEqual({ input_tokens: 6, output_tokens: 2, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
  });

  test("Should stream a tool call as a tool_use block with one input_json_delta - as the reference sequence", async () => {
    const events = await streamed({ model: "fake", max_tokens: 64, stream: true, tools: [tool], tool_choice: { type: "tool", name: "get_weather" }, messages: [{ role: "user", content: "weather?" }] });
    expectSequence(events, TOOL_REFERENCE);
  });

  test("Should name the stop sequence in message_delta - stop_reason stop_sequence", async () => {
    const events = await streamed({ model: "fake", max_tokens: 64, stream: true, stop_sequences: [" 5"], messages: [{ role: "user", content: "count 1 2 3" }] });
    expect(events.map((e) => e.event)).toEqual(["message_start", "content_block_start", "ping", "content_block_delta", "content_block_stop", "message_delta", "message_stop"]);
    expect(events.at(-2)!.data.delta).toEqual({ stop_reason: "stop_sequence", stop_sequence: " 5" });
  });

  test("Should end with one error event when the engine fails mid-stream - no message_stop", async () => {
    const events = await streamed({ model: "fake", max_tokens: 100, stream: true, messages: [{ role: "user", content: "count 1" }] }, { fault: () => "stream" });
    expect(events[0]!.event).toBe("message_start");
    expect(events.at(-1)).toEqual({ event: "error", data: { type: "error", error: { type: "api_error", message: expect.stringContaining("inference engine failed") } } });
    expect(events.map((e) => e.event)).not.toContain("message_stop");
  });
});
