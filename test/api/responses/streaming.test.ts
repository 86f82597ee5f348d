import { beforeAll, describe, expect, test } from "bun:test";
import { request } from "../../support/test-app";
import { respond, responsesApp, sseEvents } from "./harness";

/**
 * Reference event orders, written from OpenAI's public API reference for Responses streaming
 * (https://platform.openai.com/docs/api-reference/responses-streaming, with the worked example in
 * https://developers.openai.com/docs/guides/streaming-responses) and from its function-calling
 * guide's streaming section (https://platform.openai.com/docs/guides/function-calling#streaming):
 * a text answer opens the message item and its output_text part before the first delta and closes
 * them in reverse; a function call item is added with empty arguments, streams them as deltas,
 * then `arguments.done` and `output_item.done`. Every event has `type` and a `sequence_number`
 * counting up from 0; no `[DONE]` follows the terminal event.
 */
const TEXT_REFERENCE = [
  "response.created",
  "response.in_progress",
  "response.output_item.added",
  "response.content_part.added",
  "response.output_text.delta",
  "response.output_text.delta",
  "response.output_text.delta",
  "response.output_text.done",
  "response.content_part.done",
  "response.output_item.done",
  "response.completed",
];
const FUNCTION_CALL_REFERENCE = [
  "response.created",
  "response.in_progress",
  "response.output_item.added",
  "response.function_call_arguments.delta",
  "response.function_call_arguments.done",
  "response.output_item.done",
  "response.completed",
];

const post = (json: unknown) => request("/v1/responses", { method: "POST", json });

describe("POST /v1/responses with stream: true", () => {
  const h = responsesApp({ naturalLength: 3 });
  const broken = responsesApp({ fault: () => "stream", naturalLength: 8 });
  beforeAll(async () => {
    await h.engine.start();
    await broken.engine.start();
  });

  test("Should stream a text answer in the reference order - typed events with sequence numbers", async () => {
    const response = await h.app.handle(post(respond({ stream: true })));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toStartWith("text/event-stream");
    const events = sseEvents(await response.text());
    expect(events.map((e) => e.type)).toEqual(TEXT_REFERENCE);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const [created, inProgress, added, partAdded, ...rest] = events;
    const id = created!.response.id.slice("resp_".length);
    expect(created!.response).toMatchObject({ id: `resp_${id}`, object: "response", status: "in_progress", output: [], usage: null });
    expect(inProgress!.response.status).toBe("in_progress");
    expect(added).toMatchObject({ output_index: 0, item: { id: `msg_${id}`, type: "message", status: "in_progress", role: "assistant", content: [] } });
    expect(partAdded).toMatchObject({ item_id: `msg_${id}`, output_index: 0, content_index: 0, part: { type: "output_text", text: "", annotations: [] } });
    const deltas = rest.filter((e) => e.type === "response.output_text.delta");
    expect(deltas.map((e) => e.delta)).toEqual([" 4", " 5", " 6"]);
    expect(deltas.every((e) => e.item_id === `msg_${id}` && e.output_index === 0 && e.content_index === 0)).toBe(true);
    const byType = Object.fromEntries(events.map((e) => [e.type, e]));
    expect(byType["response.output_text.done"]!.text).toBe(" 4 5 6");
    expect(byType["response.content_part.done"]!.part).toMatchObject({ type: "output_text", text: " 4 5 6" });
    expect(byType["response.output_item.done"]!.item).toMatchObject({ status: "completed", content: [{ type: "output_text", text: " 4 5 6" }] });
    const completed = byType["response.completed"]!.response;
    expect(completed).toMatchObject({ status: "completed", output: [{ type: "message", content: [{ text: " 4 5 6" }] }], usage: { input_tokens: 6, output_tokens: 3, total_tokens: 9 } });
  });

  test("Should equal the non-streamed response in its final event - one answer, two framings", async () => {
    const streamed = sseEvents(await (await h.app.handle(post(respond({ stream: true, max_output_tokens: 2 })))).text()).at(-1)!;
    const plain = await (await h.app.handle(post(respond({ max_output_tokens: 2 })))).json();
    expect(streamed.type).toBe("response.incomplete");
    const strip = ({ id: _id, output, ...rest }: Record<string, any>) => ({ ...rest, output: output.map(({ id: _i, ...item }: Record<string, unknown>) => item) });
    expect(strip(streamed.response)).toEqual(strip(plain));
    expect(streamed.response.incomplete_details).toEqual({ reason: "max_output_tokens" });
  });

  test("Should stream a function call in the reference order - arguments as delta then done", async () => {
    const tools = [{ type: "function", name: "lookup", parameters: { type: "object", properties: { q: { const: "x" } }, required: ["q"] } }];
    const events = sseEvents(await (await h.app.handle(post(respond({ stream: true, tools, tool_choice: "required" })))).text());
    expect(events.map((e) => e.type)).toEqual(FUNCTION_CALL_REFERENCE);
    const id = events[0]!.response.id.slice("resp_".length);
    expect(events[2]).toMatchObject({ output_index: 0, item: { id: `fc_${id}_0`, type: "function_call", status: "in_progress", call_id: `call_${id}_0`, name: "lookup", arguments: "" } });
    expect(events[3]).toMatchObject({ item_id: `fc_${id}_0`, output_index: 0, delta: '{"q":"x"}' });
    expect(events[4]).toMatchObject({ item_id: `fc_${id}_0`, output_index: 0, arguments: '{"q":"x"}' });
    expect(events[5]!.item).toMatchObject({ status: "completed", arguments: '{"q":"x"}' });
    expect(events[6]!.response.output).toEqual([events[5]!.item]);
  });

  test("Should stream a cut function call as incomplete and end with response.incomplete - max_output_tokens cut the call", async () => {
    const tools = [{ type: "function", name: "lookup", parameters: { type: "object", properties: { q: { const: "x" } }, required: ["q"] } }];
    const events = sseEvents(await (await h.app.handle(post(respond({ stream: true, tools, tool_choice: "required", max_output_tokens: 1 })))).text());
    expect(events.map((e) => e.type)).toEqual([...FUNCTION_CALL_REFERENCE.slice(0, -1), "response.incomplete"]);
    expect(events[4]).toMatchObject({ arguments: '{"q"' });
    expect(events[5]!.item).toMatchObject({ status: "incomplete", arguments: '{"q"' });
    expect(events.at(-1)!.response).toMatchObject({ status: "incomplete", output: [events[5]!.item] });
  });

  test("Should end with response.failed carrying the engine's error - a failure mid-stream", async () => {
    const text = await (await broken.app.handle(post(respond({ stream: true })))).text();
    const events = sseEvents(text);
    const last = events.at(-1)!;
    expect(last.type).toBe("response.failed");
    expect(last.response.status).toBe("failed");
    expect(last.response.error).toMatchObject({ code: "engine_error" });
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(text).not.toContain("[DONE]");
  });
});
