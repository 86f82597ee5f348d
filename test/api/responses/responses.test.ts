import { beforeAll, describe, expect, test } from "bun:test";
import { request } from "../../support/test-app";
import { respond, responsesApp } from "./harness";

const post = (json: unknown) => request("/v1/responses", { method: "POST", json });

describe("POST /v1/responses", () => {
  const h = responsesApp();
  beforeAll(() => h.engine.start());

  test("Should answer a string input with a completed response object - OpenAI's shape", async () => {
    const response = await h.app.handle(post(respond({ max_output_tokens: 100, metadata: { team: "a" }, user: "u1" })));
    expect(response.status).toBe(200);
    const body = await response.json();
    const id = body.id.slice("resp_".length);
    expect(body).toMatchObject({
      id: `resp_${id}`,
      object: "response",
      created_at: 1_750_000_000,
      status: "completed",
      error: null,
      incomplete_details: null,
      model: "fake",
      output: [
        {
          id: `msg_${id}`,
          type: "message",
          status: "completed",
          role: "assistant",
          content: [{ type: "output_text", text: " 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19", annotations: [] }],
        },
      ],
      usage: { input_tokens: 6, input_tokens_details: { cached_tokens: 0 }, output_tokens: 16, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 22 },
      store: false,
      max_output_tokens: 100,
      metadata: { team: "a" },
      user: "u1",
      temperature: 1,
      top_p: 1,
      tool_choice: "auto",
      tools: [],
      parallel_tool_calls: true,
      text: { format: { type: "text" } },
    });
  });

  test("Should answer incomplete with reason max_output_tokens - cut by length", async () => {
    const body = await (await h.app.handle(post(respond({ max_output_tokens: 3 })))).json();
    expect(body.status).toBe("incomplete");
    expect(body.incomplete_details).toEqual({ reason: "max_output_tokens" });
    expect(body.output[0].status).toBe("incomplete");
    expect(body.output[0].content[0].text).toBe(" 4 5 6");
  });

  test("Should hand the engine the chat request that chat completions builds - one inference path", async () => {
    await h.app.handle(
      post({
        model: "fake",
        instructions: "be brief",
        input: [
          { role: "user", content: "hello 1" },
          { type: "message", role: "assistant", content: [{ type: "output_text", text: "calling" }] },
          { type: "function_call", call_id: "call_a", name: "lookup", arguments: '{"q":1}' },
          { type: "function_call", call_id: "call_b", name: "lookup", arguments: '{"q":2}' },
          { type: "function_call_output", call_id: "call_a", output: "one" },
          { type: "function_call_output", call_id: "call_b", output: [{ type: "input_text", text: "two" }] },
          { type: "message", role: "developer", content: [{ type: "input_text", text: "a" }, { type: "input_text", text: "b" }] },
        ],
        tools: [{ type: "function", name: "lookup", description: "look up", parameters: { type: "object" }, strict: true }],
        tool_choice: { type: "function", name: "lookup" },
        temperature: 0.5,
        top_p: 0.9,
        max_output_tokens: 7,
        text: { format: { type: "json_schema", name: "out", schema: { type: "object" } } },
        unknown_field: { anything: true },
      }),
    );
    const generation = h.generations.at(-1)!;
    expect(generation.input).toEqual({
      kind: "chat",
      messages: [
        { role: "system", content: "be brief" },
        { role: "user", content: "hello 1" },
        { role: "assistant", content: "calling", toolCalls: [{ id: "call_a", name: "lookup", arguments: '{"q":1}' }, { id: "call_b", name: "lookup", arguments: '{"q":2}' }] },
        { role: "tool", content: "one", toolCallId: "call_a" },
        { role: "tool", content: "two", toolCallId: "call_b" },
        { role: "system", content: "a\nb" },
      ],
      tools: [{ name: "lookup", description: "look up", parameters: { type: "object" } }],
      toolChoice: { name: "lookup" },
    });
    expect(generation.sampling).toEqual({ maxTokens: 7, temperature: 0.5, topP: 0.9, stop: [], presencePenalty: 0, frequencyPenalty: 0, logitBias: {} });
    expect(generation.responseFormat).toEqual({ type: "json_schema", name: "out", schema: { type: "object" } });
    expect(generation.caller?.key.id).toBe("key_test");
  });

  test("Should return function_call items with call_id, name and arguments - a forced tool call", async () => {
    const tools = [{ type: "function", name: "lookup", parameters: { type: "object", properties: { q: { const: "x" } }, required: ["q"] } }];
    const body = await (await h.app.handle(post(respond({ tools, tool_choice: "required" })))).json();
    const id = body.id.slice("resp_".length);
    expect(body.status).toBe("completed");
    expect(body.output).toEqual([
      { id: `fc_${id}_0`, type: "function_call", status: "completed", call_id: `call_${id}_0`, name: "lookup", arguments: '{"q":"x"}' },
    ]);
    expect(body.tool_choice).toBe("required");
    expect(body.tools).toEqual([{ type: "function", name: "lookup", description: null, parameters: tools[0]!.parameters, strict: true }]);
  });

  test("Should answer incomplete with the function_call as far as it got - max_output_tokens cut the call", async () => {
    const tools = [{ type: "function", name: "lookup", parameters: { type: "object", properties: { q: { const: "x" } }, required: ["q"] } }];
    const body = await (await h.app.handle(post(respond({ tools, tool_choice: "required", max_output_tokens: 1 })))).json();
    expect(body.status).toBe("incomplete");
    expect(body.incomplete_details).toEqual({ reason: "max_output_tokens" });
    expect(body.output).toEqual([expect.objectContaining({ type: "function_call", status: "incomplete", name: "lookup", arguments: '{"q"' })]);
  });

  test("Should answer json_schema output as the schema's JSON - enforced by the engine's grammar", async () => {
    const format = { type: "json_schema", name: "out", schema: { type: "object", properties: { v: { const: 7 } }, required: ["v"] } };
    const body = await (await h.app.handle(post(respond({ text: { format } })))).json();
    expect(JSON.parse(body.output[0].content[0].text)).toEqual({ v: 7 });
    expect(body.text).toEqual({ format });
  });

  test("Should give the same greedy text as chat completions - the same prompt on the same engine", async () => {
    const chat = await (await h.app.handle(request("/v1/chat/completions", { method: "POST", json: { model: "fake", messages: [{ role: "system", content: "sys" }, { role: "user", content: "count 5 6" }], temperature: 0, max_tokens: 5 } }))).json();
    const responses = await (await h.app.handle(post({ model: "fake", instructions: "sys", input: "count 5 6", temperature: 0, max_output_tokens: 5 }))).json();
    expect(responses.output[0].content[0].text).toBe(chat.choices[0].message.content);
    expect(responses.usage.input_tokens).toBe(chat.usage.prompt_tokens);
  });

  test.each([
    ["model", { input: "hi" }, "missing_required_parameter"],
    ["input", { model: "fake" }, "missing_required_parameter"],
    ["input", respond({ input: 5 }), "invalid_type"],
    ["temperature", respond({ temperature: "hot" }), "invalid_type"],
    ["top_p", respond({ top_p: 3 }), "invalid_value"],
    ["max_output_tokens", respond({ max_output_tokens: 1.5 }), "invalid_type"],
    ["tools[0].type", respond({ tools: [{ type: "web_search" }] }), "invalid_value"],
    ["tools[0].name", respond({ tools: [{ type: "function", name: "bad name" }] }), "invalid_value"],
    ["tool_choice", respond({ tool_choice: "required" }), "invalid_value"],
    ["tool_choice", respond({ tools: [{ type: "function", name: "a" }], tool_choice: { type: "function", name: "b" } }), "invalid_value"],
    ["text.format.type", respond({ text: { format: { type: "yaml" } } }), "invalid_value"],
    ["text.format.schema", respond({ text: { format: { type: "json_schema", name: "x" } } }), "missing_required_parameter"],
    ["input[0].type", respond({ input: [{ type: "computer_call", action: {} }] }), "invalid_value"],
    ["input[0].content[0].type", respond({ input: [{ role: "user", content: [{ type: "input_image", image_url: "x" }] }] }), "unsupported_value"],
    ["input[0].call_id", respond({ input: [{ type: "function_call_output", output: "x" }] }), "missing_required_parameter"],
    ["metadata", respond({ metadata: "m" }), "invalid_type"],
    ["parallel_tool_calls", respond({ parallel_tool_calls: "yes" }), "invalid_type"],
  ])("Should answer 400 naming %s - wrong or missing", async (param, json, code) => {
    const response = await h.app.handle(post(json));
    expect(response.status).toBe(400);
    const { error } = await response.json();
    expect(error).toMatchObject({ type: "invalid_request_error", param, code });
  });

  test("Should answer 400 for malformed JSON - before anything runs", async () => {
    const before = h.generations.length;
    const response = await h.app.handle(request("/v1/responses", { method: "POST", body: "{", headers: { "content-type": "application/json" } }));
    expect(response.status).toBe(400);
    expect((await response.json()).error.code).toBe("invalid_json");
    expect(h.generations.length).toBe(before);
  });

  test("Should answer store: true normally with store false - zero data retention keeps nothing", async () => {
    const response = await h.app.handle(post(respond({ store: true })));
    expect(response.status).toBe(200);
    expect((await response.json()).store).toBe(false);
  });

  test("Should refuse previous_response_id with 400 saying storage is off - nothing was stored to chain", async () => {
    const before = h.generations.length;
    const response = await h.app.handle(post(respond({ previous_response_id: "resp_abc" })));
    expect(response.status).toBe(400);
    const { error } = await response.json();
    expect(error).toMatchObject({ type: "invalid_request_error", param: "previous_response_id", code: "storage_disabled" });
    expect(error.message).toContain("storage is off by the retention policy");
    expect(h.generations.length).toBe(before);
  });

  test.each([
    ["GET", "/v1/responses/resp_abc"],
    ["DELETE", "/v1/responses/resp_abc"],
    ["GET", "/v1/responses/resp_abc/input_items"],
  ])("Should answer %s %s with 404 saying storage is off - and not repeat the id", async (method, path) => {
    const response = await h.app.handle(request(path, { method }));
    expect(response.status).toBe(404);
    const { error } = await response.json();
    expect(error.type).toBe("not_found_error");
    expect(error.message).toContain("storage is off by the retention policy");
    expect(error.message).not.toContain("resp_abc");
  });
});
