import type Anthropic from "@anthropic-ai/sdk";
import { describe, expect, test } from "bun:test";
import { request } from "../../support/test-app";
import { anthropicApp, sdkClient, sseEvents } from "./harness";

/**
 * A reasoning model's thoughts on /v1/messages: `thinking` blocks, as Anthropic returns them,
 * only when the request turned thinking on; the official SDK reads them, streamed or not.
 */
const reasoning = "the user counts; next is 4";
const ask = { model: "fake", max_tokens: 2, messages: [{ role: "user" as const, content: "count 1 2 3" }] };
const enabled = { type: "enabled" as const, budget_tokens: 1024 };
const answer: Anthropic.TextBlock = { type: "text", text: " 4 5", citations: null };
/** The SDK's streamed final message has its own extra fields on a text block (parsed_output); the content is what counts. */
const streamedAnswer = { type: "text", text: " 4 5" };

describe("thinking blocks on /v1/messages", () => {
  test("Should return the thoughts as a thinking block before the text - thinking enabled", async () => {
    const { app } = anthropicApp({ reasoning });
    const message = await sdkClient(app).messages.create({ ...ask, thinking: enabled });
    expect(message.content).toEqual([{ type: "thinking", thinking: reasoning, signature: "" }, answer]);
  });

  test.each([
    ["no thinking parameter", {}],
    ["thinking disabled", { thinking: { type: "disabled" as const } }],
  ])("Should leave the thoughts out - %s, as Anthropic's API does", async (_, extra) => {
    const { app } = anthropicApp({ reasoning });
    const client = sdkClient(app);
    expect((await client.messages.create({ ...ask, ...extra })).content).toEqual([answer]);
    const streamed = await client.messages.stream({ ...ask, ...extra }).finalMessage();
    expect(streamed.content).toMatchObject([streamedAnswer]);
    expect(streamed.content).toHaveLength(1);
  });

  test("Should keep a thinking block without its text - display omitted", async () => {
    const { app } = anthropicApp({ reasoning });
    const client = sdkClient(app);
    const thinking = { ...enabled, display: "omitted" as const };
    expect((await client.messages.create({ ...ask, thinking })).content).toEqual([{ type: "thinking", thinking: "", signature: "" }, answer]);
    expect((await client.messages.stream({ ...ask, thinking }).finalMessage()).content).toMatchObject([{ type: "thinking", thinking: "", signature: "" }, streamedAnswer]);
  });

  test("Should stream the thinking block as Anthropic does - thinking_delta events, then signature_delta, then the text block", async () => {
    const { app } = anthropicApp({ reasoning });
    const response = await app.handle(request("/v1/messages", { method: "POST", json: { ...ask, thinking: enabled, stream: true } }));
    const events = sseEvents(await response.text());
    const blocks = events.filter(({ event }) => event.startsWith("content_block")).map(({ data }) => [data.type, data.index, data.content_block?.type ?? data.delta?.type]);
    const thoughts = blocks.filter(([, , kind]) => kind === "thinking_delta");
    expect(thoughts.length).toBeGreaterThan(1);
    expect(blocks).toEqual([
      ["content_block_start", 0, "thinking"],
      ...thoughts,
      ["content_block_delta", 0, "signature_delta"],
      ["content_block_stop", 0, undefined],
      ["content_block_start", 1, "text"],
      ...blocks.filter(([, , kind]) => kind === "text_delta"),
      ["content_block_stop", 1, undefined],
    ]);
    expect(events.find(({ event }) => event === "content_block_start")!.data.content_block).toEqual({ type: "thinking", thinking: "", signature: "" });
    const deltas = events.filter(({ data }) => data.delta?.type === "thinking_delta").map(({ data }) => data.delta.thinking);
    expect(deltas.join("")).toBe(reasoning);

    const streamed = await sdkClient(app).messages.stream({ ...ask, thinking: enabled }).finalMessage();
    expect(streamed.content).toMatchObject([{ type: "thinking", thinking: reasoning, signature: "" }, streamedAnswer]);
    expect(streamed.content).toHaveLength(2);
  });

  test("Should accept the thinking block passed back in the history - and not show it to the model", async () => {
    const { app, generations } = anthropicApp({ reasoning });
    const client = sdkClient(app);
    const first = await client.messages.create({ ...ask, thinking: enabled });
    await client.messages.create({ ...ask, thinking: enabled, messages: [...ask.messages, { role: "assistant", content: first.content }, { role: "user", content: "go on" }] });
    const history = generations[1]!.input.kind === "chat" ? generations[1]!.input.messages : [];
    expect(history.map((message) => message.content)).toEqual(["count 1 2 3", " 4 5", "go on"]);
  });
});
