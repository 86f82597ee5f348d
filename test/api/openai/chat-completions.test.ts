import { describe, expect, test } from "bun:test";
import { chat, json, openAiApp, post } from "./harness";

const weatherTool = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Current weather",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};

describe("POST /v1/chat/completions", () => {
  test("Should answer in OpenAI's chat.completion shape - id, choices, usage", async () => {
    const { app } = openAiApp();
    const response = await app.handle(post("/v1/chat/completions", chat({ max_tokens: 3 })));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toStartWith("application/json");
    const requestId = response.headers.get("x-request-id");
    expect(await json(response)).toEqual({
      id: `chatcmpl-${requestId}`,
      object: "chat.completion",
      created: 1_750_000_000,
      model: "fake",
      choices: [{ index: 0, message: { role: "assistant", content: " 4 5 6", refusal: null }, logprobs: null, finish_reason: "length" }],
      // The fake counts one token per word plus two per message.
      usage: { prompt_tokens: 6, completion_tokens: 3, total_tokens: 9 },
    });
  });

  test("Should pass stop and max_tokens to the engine - and finish with 'stop' at the stop string", async () => {
    const { app, generations } = openAiApp();
    const response = await app.handle(post("/v1/chat/completions", chat({ max_tokens: 10, stop: " 6" })));
    const body = await json(response);
    expect(generations[0]?.sampling).toMatchObject({ maxTokens: 10, stop: [" 6"] });
    expect(body.choices[0]).toMatchObject({ message: { content: " 4 5" }, finish_reason: "stop" });
  });

  test("Should prefer max_completion_tokens over max_tokens - the newer name wins", async () => {
    const { app, generations } = openAiApp();
    await app.handle(post("/v1/chat/completions", chat({ max_tokens: 10, max_completion_tokens: 2 })));
    expect(generations[0]?.sampling.maxTokens).toBe(2);
  });

  test("Should translate every parameter into the engine's request", async () => {
    const { app, engine, generations } = openAiApp();
    await engine.start();
    const response = await app.handle(
      post(
        "/v1/chat/completions",
        {
          model: "fake",
          messages: [
            { role: "developer", content: "be brief" },
            { role: "user", content: [{ type: "text", text: "first" }, { type: "text", text: "second" }] },
            { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "get_weather", arguments: "{}" } }] },
            { role: "tool", tool_call_id: "c1", content: "sunny" },
          ],
          temperature: 0.2,
          top_p: 0.9,
          seed: 7,
          stop: ["a", "b"],
          presence_penalty: 0.5,
          frequency_penalty: -0.5,
          logit_bias: { "42": -100, "7": 5 },
          user: "someone",
          response_format: { type: "json_schema", json_schema: { name: "answer", schema: { type: "object" }, strict: true } },
          tools: [weatherTool],
          tool_choice: "none",
          parallel_tool_calls: false,
          logprobs: true,
          top_logprobs: 3,
          some_future_field: { ignored: true },
        },
        { "x-enclave-wait-for-model": "false" },
      ),
    );
    expect(response.status).toBe(200);
    const sent = generations[0]!;
    expect(sent.input).toEqual({
      kind: "chat",
      messages: [
        { role: "system", content: "be brief" },
        { role: "user", content: "first\nsecond" },
        { role: "assistant", content: "", toolCalls: [{ id: "c1", name: "get_weather", arguments: "{}" }] },
        { role: "tool", content: "sunny", toolCallId: "c1" },
      ],
      tools: [{ name: "get_weather", description: "Current weather", parameters: weatherTool.function.parameters }],
      toolChoice: "none",
    });
    expect(sent.sampling).toEqual({
      maxTokens: null,
      temperature: 0.2,
      topP: 0.9,
      seed: 7,
      stop: ["a", "b"],
      presencePenalty: 0.5,
      frequencyPenalty: -0.5,
      logitBias: { 42: -100, 7: 5 },
    });
    expect(sent.responseFormat).toEqual({ type: "json_schema", name: "answer", schema: { type: "object" } });
    expect(sent.topLogprobs).toBe(3);
    expect(sent.waitForModel).toBe(false);
    expect(sent.requestId).toBe(response.headers.get("x-request-id")!);
    expect(JSON.stringify(sent)).not.toContain("someone");
  });

  test("Should use OpenAI's defaults when parameters are absent or null", async () => {
    const { app, generations } = openAiApp();
    await app.handle(post("/v1/chat/completions", chat({ temperature: null, stop: null, tools: null, n: null, stream: null })));
    const sent = generations[0]!;
    expect(sent.sampling).toEqual({ maxTokens: null, temperature: 1, topP: 1, stop: [], presencePenalty: 0, frequencyPenalty: 0, logitBias: {} });
    expect(sent.responseFormat).toEqual({ type: "text" });
    expect(sent.topLogprobs).toBeNull();
    expect(sent.waitForModel).toBe(true);
    expect(sent.input).toMatchObject({ tools: [], toolChoice: "none" });
  });

  test("Should return tool calls with content null and finish_reason tool_calls", async () => {
    const { app } = openAiApp();
    const response = await app.handle(
      post("/v1/chat/completions", chat({ messages: [{ role: "user", content: "weather in Oslo?" }], tools: [weatherTool], tool_choice: "required" })),
    );
    const body = await json(response);
    const requestId = response.headers.get("x-request-id");
    expect(body.choices).toEqual([
      {
        index: 0,
        message: {
          role: "assistant",
          content: null,
          tool_calls: [{ id: `call_${requestId}_0`, type: "function", function: { name: "get_weather", arguments: '{"city":"text"}' } }],
          refusal: null,
        },
        logprobs: null,
        finish_reason: "tool_calls",
      },
    ]);
  });

  test("Should return the call's arguments as far as they got with finish_reason length - max_tokens cut the call", async () => {
    const { app } = openAiApp();
    const body = await json(
      await app.handle(post("/v1/chat/completions", chat({ messages: [{ role: "user", content: "weather?" }], tools: [weatherTool], tool_choice: "required", max_tokens: 2 }))),
    );
    expect(body.choices[0].finish_reason).toBe("length");
    expect(body.choices[0].message.tool_calls).toEqual([expect.objectContaining({ function: { name: "get_weather", arguments: '{"city":' } })]);
    expect(body.usage.completion_tokens).toBe(2);
  });

  test("Should pass a named tool_choice to the engine as that function", async () => {
    const { app, generations } = openAiApp();
    await app.handle(post("/v1/chat/completions", chat({ tools: [weatherTool], tool_choice: { type: "function", function: { name: "get_weather" } } })));
    expect(generations[0]?.input).toMatchObject({ toolChoice: { name: "get_weather" } });
  });

  test("Should return logprobs in chat's shape - token, logprob, bytes, top_logprobs", async () => {
    const { app } = openAiApp();
    const body = await json(await app.handle(post("/v1/chat/completions", chat({ max_tokens: 1, logprobs: true, top_logprobs: 2 }))));
    expect(body.choices[0].logprobs).toEqual({
      content: [
        {
          token: " 4",
          logprob: -0.01,
          bytes: [32, 52],
          top_logprobs: [
            { token: " 4", logprob: -0.01, bytes: [32, 52] },
            { token: " the", logprob: -2, bytes: [32, 116, 104, 101] },
          ],
        },
      ],
      refusal: null,
    });
  });

  test("Should accept a JSON body sent without a JSON content type - as OpenAI does", async () => {
    const { app } = openAiApp();
    const response = await app.handle(
      new Request("http://localhost/v1/chat/completions", { method: "POST", body: JSON.stringify(chat()), headers: { "content-type": "application/x-www-form-urlencoded" } }),
    );
    expect(response.status).toBe(200);
  });
});
