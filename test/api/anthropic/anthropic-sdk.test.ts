import Anthropic from "@anthropic-ai/sdk";
import { describe, expect, test } from "bun:test";
import { anthropicApp, sdkClient } from "./harness";

const weatherTool = {
  name: "get_weather",
  description: "the weather in a city",
  input_schema: { type: "object" as const, properties: { city: { type: "string" } }, required: ["city"] },
};

/** The official `@anthropic-ai/sdk`, unchanged, against the in-process app: what Claude Code and Anthropic apps see. */
describe("the official @anthropic-ai/sdk", () => {
  test("Should create a message - text block, stop_reason, usage with the cache counters at 0", async () => {
    const { app, generations } = anthropicApp();
    const message = await sdkClient(app).messages.create({
      model: "fake",
      max_tokens: 3,
      system: [{ type: "text", text: "You count." }],
      messages: [{ role: "user", content: "count 1 2 3" }],
      temperature: 0,
      top_p: 0.9,
      top_k: 40,
      metadata: { user_id: "u-1" },
    } as Anthropic.MessageCreateParamsNonStreaming);
    expect(message.type).toBe("message");
    expect(message.id).toMatch(/^msg_/);
    expect(message.role).toBe("assistant");
    expect(message.model).toBe("fake");
    expect(message.content).toEqual([{ type: "text", text: " 4 5 6", citations: null } as Anthropic.TextBlock]);
    expect(message.stop_reason).toBe("max_tokens");
    expect(message.stop_sequence).toBeNull();
    expect(message.usage).toEqual({ input_tokens: 10, output_tokens: 3, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 } as Anthropic.Usage);
    // One engine request, as a chat completion would make it: the system prompt first, sampling mapped.
    expect(generations).toHaveLength(1);
    const request = generations[0]!;
    expect(request.input).toEqual({ kind: "chat", messages: [{ role: "system", content: "You count." }, { role: "user", content: "count 1 2 3" }], tools: [], toolChoice: "none" });
    expect(request.sampling).toMatchObject({ maxTokens: 3, temperature: 0, topP: 0.9, topK: 40, stop: [] });
    expect(request.caller).toBeDefined();
  });

  test("Should end with end_turn when the model stops by itself", async () => {
    const { app } = anthropicApp({ naturalLength: 2 });
    const message = await sdkClient(app).messages.create({ model: "fake", max_tokens: 100, messages: [{ role: "user", content: "count 1 2 3" }] });
    expect(message.content).toEqual([{ type: "text", text: " 4 5", citations: null } as Anthropic.TextBlock]);
    expect(message.stop_reason).toBe("end_turn");
  });

  test("Should stop at a stop sequence and name it - stop_reason stop_sequence", async () => {
    const { app } = anthropicApp();
    const message = await sdkClient(app).messages.create({ model: "fake", max_tokens: 100, stop_sequences: [" 6", " 9"], messages: [{ role: "user", content: "count 1 2 3" }] });
    expect(message.content).toEqual([{ type: "text", text: " 4 5", citations: null } as Anthropic.TextBlock]);
    expect(message.stop_reason).toBe("stop_sequence");
    expect(message.stop_sequence).toBe(" 6");
  });

  test("Should round-trip a tool call - tool_use with an input object, then the tool_result answered as text", async () => {
    const { app, generations } = anthropicApp();
    const client = sdkClient(app);
    const first = await client.messages.create({
      model: "fake",
      max_tokens: 64,
      tools: [weatherTool],
      tool_choice: { type: "tool", name: "get_weather" },
      messages: [{ role: "user", content: "what is the weather in Paris?" }],
    });
    expect(first.stop_reason).toBe("tool_use");
    const toolUse = first.content.find((block): block is Anthropic.ToolUseBlock => block.type === "tool_use")!;
    expect(toolUse).toMatchObject({ type: "tool_use", name: "get_weather", input: { city: "text" } });
    expect(typeof toolUse.id).toBe("string");

    const second = await client.messages.create({
      model: "fake",
      max_tokens: 2,
      tools: [weatherTool],
      messages: [
        { role: "user", content: "what is the weather in Paris?" },
        { role: "assistant", content: first.content },
        { role: "user", content: [{ type: "tool_result", tool_use_id: toolUse.id, content: [{ type: "text", text: "sunny, 20" }] }] },
      ],
    });
    expect(second.stop_reason).toBe("max_tokens");
    expect(second.content).toEqual([{ type: "text", text: " 21 22", citations: null } as Anthropic.TextBlock]);
    // The engine saw the history as chat messages: the call on the assistant turn, the result as a tool message.
    expect(generations[0]!.input).toMatchObject({ toolChoice: { name: "get_weather" }, tools: [{ name: "get_weather", description: "the weather in a city", parameters: weatherTool.input_schema }] });
    expect(generations[1]!.input).toMatchObject({
      toolChoice: "auto",
      messages: [
        { role: "user", content: "what is the weather in Paris?" },
        { role: "assistant", content: "", toolCalls: [{ id: toolUse.id, name: "get_weather", arguments: JSON.stringify(toolUse.input) }] },
        { role: "tool", toolCallId: toolUse.id, content: "sunny, 20" },
      ],
    });
  });

  test("Should answer max_tokens with the tool_use input parsed as far as it got - max_tokens cut the call", async () => {
    const { app } = anthropicApp();
    const client = sdkClient(app);
    const request = { model: "fake", max_tokens: 3, tools: [weatherTool], tool_choice: { type: "any" as const }, messages: [{ role: "user" as const, content: "hi" }] };
    const message = await client.messages.create(request);
    expect(message.stop_reason).toBe("max_tokens");
    expect(message.content).toEqual([{ type: "tool_use", id: expect.stringMatching(/^toolu_/), caller: { type: "direct" }, name: "get_weather", input: { city: "tex" } }]);
    // Streamed, the SDK gets the cut JSON as partial_json; how far it parses an unclosed string is its own choice.
    const stream = client.messages.stream(request);
    const partials: string[] = [];
    stream.on("inputJson", (delta) => partials.push(delta));
    const streamed = await stream.finalMessage();
    expect(streamed.stop_reason).toBe("max_tokens");
    expect(streamed.content[0]).toMatchObject({ type: "tool_use", id: expect.stringMatching(/^toolu_/), name: "get_weather" });
    expect(partials).toEqual(['{"city":"tex']);
  });

  test("Should map tool_choice any and none - required and none for the engine", async () => {
    const { app, generations } = anthropicApp();
    const client = sdkClient(app);
    const forced = await client.messages.create({ model: "fake", max_tokens: 64, tools: [weatherTool], tool_choice: { type: "any" }, messages: [{ role: "user", content: "hi" }] });
    expect(forced.content.map((block) => block.type)).toEqual(["tool_use"]);
    const none = await client.messages.create({ model: "fake", max_tokens: 2, tools: [weatherTool], tool_choice: { type: "none" }, messages: [{ role: "user", content: "get_weather 1" }] });
    expect(none.content).toEqual([{ type: "text", text: " 2 3", citations: null } as Anthropic.TextBlock]);
    expect(generations.map((g) => g.input.kind === "chat" && g.input.toolChoice)).toEqual(["required", "none"]);
  });

  test("Should stream with .stream() - text events, the final message with usage", async () => {
    const { app } = anthropicApp({ tokenDelayMs: 1 });
    const stream = sdkClient(app).messages.stream({ model: "fake", max_tokens: 3, messages: [{ role: "user", content: "count 1 2 3" }] });
    const texts: string[] = [];
    stream.on("text", (text) => texts.push(text));
    const message = await stream.finalMessage();
    expect(texts.join("")).toBe(" 4 5 6");
    expect(message.content).toEqual([{ type: "text", text: " 4 5 6" }] as never);
    expect(message.stop_reason).toBe("max_tokens");
    expect(message.usage).toMatchObject({ input_tokens: 6, output_tokens: 3 });
  });

  test("Should stream a tool call - the SDK assembles tool_use input from input_json_delta", async () => {
    const { app } = anthropicApp();
    const stream = sdkClient(app).messages.stream({ model: "fake", max_tokens: 64, tools: [weatherTool], tool_choice: { type: "any" }, messages: [{ role: "user", content: "hi" }] });
    const message = await stream.finalMessage();
    expect(message.stop_reason).toBe("tool_use");
    expect(message.content).toHaveLength(1);
    expect(message.content[0]).toMatchObject({ type: "tool_use", name: "get_weather", input: { city: "text" } });
  });

  test("Should count tokens with the model's own count - the same prompt tokens a generation reports", async () => {
    const { app } = anthropicApp();
    const client = sdkClient(app);
    const body = { model: "fake", system: "You count.", messages: [{ role: "user" as const, content: "count 1 2 3" }] };
    const counted = await client.messages.countTokens(body);
    const generated = await client.messages.create({ ...body, max_tokens: 1 });
    expect(counted).toEqual({ input_tokens: generated.usage.input_tokens });
    expect(counted.input_tokens).toBe(10);
  });

  test.each([
    ["unknown model", { model: "no-such-model" }, Anthropic.NotFoundError, 404, "not_found_error"],
    ["missing max_tokens", { max_tokens: undefined }, Anthropic.BadRequestError, 400, "invalid_request_error"],
    ["image block", { messages: [{ role: "user", content: [{ type: "image", source: { type: "base64", media_type: "image/png", data: "AAAA" } }] }] }, Anthropic.BadRequestError, 400, "invalid_request_error"],
  ] as const)("Should surface %s as the SDK's typed error - Anthropic's error shape and status", async (_name, override, errorClass, status, type) => {
    const { app, generations } = anthropicApp();
    const body = { model: "fake", max_tokens: 8, messages: [{ role: "user", content: "hi" }], ...override } as Anthropic.MessageCreateParamsNonStreaming;
    const error = await sdkClient(app).messages.create(body).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(errorClass);
    const apiError = error as InstanceType<typeof Anthropic.APIError>;
    expect(apiError.status).toBe(status);
    expect(apiError.error).toMatchObject({ type: "error", error: { type } });
    expect(apiError.requestID).toMatch(/^req_/);
    if (_name === "image block") expect((apiError.error as any).error.message).toContain("text-only");
    if (_name !== "unknown model") expect(generations).toHaveLength(0);
  });

  test("Should answer a model still loading with 529 overloaded_error and Retry-After - the SDK's OverloadedError", async () => {
    const { app } = anthropicApp({ models: [{ id: "fake", loadDelayMs: 60_000 }] });
    const error = await sdkClient(app)
      .messages.create({ model: "fake", max_tokens: 8, messages: [{ role: "user", content: "hi" }] }, { headers: { "x-enclave-wait-for-model": "false" } })
      .then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.OverloadedError);
    const apiError = error as InstanceType<typeof Anthropic.APIError>;
    expect(apiError.status).toBe(529);
    expect(apiError.error).toMatchObject({ type: "error", error: { type: "overloaded_error" } });
    expect(apiError.headers?.get("retry-after")).toBe("5");
  });

  test("Should send an error event when the engine fails mid-stream - the SDK rejects with it", async () => {
    const { app } = anthropicApp({ fault: () => "stream" });
    const stream = sdkClient(app).messages.stream({ model: "fake", max_tokens: 100, messages: [{ role: "user", content: "count 1" }] });
    const error = await stream.finalMessage().then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect(String((error as Error).message)).toContain("api_error");
  });
});
