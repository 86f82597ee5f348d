import { describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { request } from "../../support/test-app";
import { respond, responsesApp, sseEvents } from "./harness";

/**
 * A reasoning model's thoughts on /v1/responses: a `reasoning` output item before the message,
 * its text as `reasoning_text` content (summary empty), streamed as reasoning_text events; the
 * official `openai` SDK reads it and can pass it back as input.
 */
const reasoning = "the user counts; next is 4";
const clientOf = (app: { handle: (request: Request) => Promise<Response> }) =>
  new OpenAI({ apiKey: "unused", baseURL: "http://localhost/v1", maxRetries: 0, fetch: (url, init) => app.handle(new Request(url, init)) });

describe("reasoning items on /v1/responses", () => {
  test("Should return the thoughts as a reasoning item before the message - output_text is the answer alone", async () => {
    const { app } = responsesApp({ reasoning });
    const response = await clientOf(app).responses.create({ model: "fake", input: "count 1 2 3", max_output_tokens: 2 });
    expect(response.output.map((item) => item.type)).toEqual(["reasoning", "message"]);
    expect(response.output[0]).toEqual({ id: expect.stringMatching(/^rs_/), type: "reasoning", status: "completed", summary: [], content: [{ type: "reasoning_text", text: reasoning }] });
    expect(response.output_text).toBe(" 4 5");
  });

  test("Should have no reasoning item when the model had no thoughts", async () => {
    const { app } = responsesApp();
    const response = await clientOf(app).responses.create({ model: "fake", input: "count 1 2 3", max_output_tokens: 2 });
    expect(response.output.map((item) => item.type)).toEqual(["message"]);
  });

  test("Should stream the reasoning item first - reasoning_text deltas, then the message at output_index 1", async () => {
    const { app } = responsesApp({ reasoning });
    const response = await app.handle(request("/v1/responses", { method: "POST", json: respond({ max_output_tokens: 2, stream: true }) }));
    const events = sseEvents(await response.text());
    const shape = events.filter((event) => event.output_index != null).map((event) => `${event.type}@${event.output_index}`);
    const thoughts = shape.filter((entry) => entry === "response.reasoning_text.delta@0");
    const texts = shape.filter((entry) => entry === "response.output_text.delta@1");
    expect(thoughts.length).toBeGreaterThan(1);
    expect(shape).toEqual([
      "response.output_item.added@0",
      "response.content_part.added@0",
      ...thoughts,
      "response.reasoning_text.done@0",
      "response.content_part.done@0",
      "response.output_item.done@0",
      "response.output_item.added@1",
      "response.content_part.added@1",
      ...texts,
      "response.output_text.done@1",
      "response.content_part.done@1",
      "response.output_item.done@1",
    ]);
    expect(events.filter((event) => event.type === "response.reasoning_text.delta").map((event) => event.delta).join("")).toBe(reasoning);
    expect(events.find((event) => event.type === "response.reasoning_text.done")!.text).toBe(reasoning);
    expect(events.at(-1)!.response.output.map((item: any) => item.type)).toEqual(["reasoning", "message"]);

    const final = await clientOf(app).responses.stream({ model: "fake", input: "count 1 2 3", max_output_tokens: 2 }).finalResponse();
    expect(final.output[0]).toMatchObject({ type: "reasoning", status: "completed", summary: [], content: [{ type: "reasoning_text", text: reasoning }] });
    expect(final.output_text).toBe(" 4 5");
  });

  test("Should accept the output passed back as input - the reasoning item is dropped, the model sees the answer", async () => {
    const { app, generations } = responsesApp({ reasoning });
    const client = clientOf(app);
    const first = await client.responses.create({ model: "fake", input: "count 1 2 3", max_output_tokens: 2 });
    await client.responses.create({ model: "fake", input: [{ role: "user", content: "count 1 2 3" }, ...(first.output as OpenAI.Responses.ResponseInputItem[]), { role: "user", content: "go on" }], max_output_tokens: 2 });
    const history = generations[1]!.input.kind === "chat" ? generations[1]!.input.messages : [];
    expect(history.map((message) => [message.role, message.content])).toEqual([
      ["user", "count 1 2 3"],
      ["assistant", " 4 5"],
      ["user", "go on"],
    ]);
  });
});
