import { describe, expect, test } from "bun:test";
import { chat, json, openAiApp, post } from "./harness";

const SECRET = "my-secret-prompt-text";

async function expectBadRequest(response: Response, param: string | null, code?: string) {
  expect(response.status).toBe(400);
  const text = await response.text();
  const body = JSON.parse(text);
  expect(body.error).toMatchObject({ type: "invalid_request_error", param, ...(code && { code }) });
  expect(text).not.toContain(SECRET);
  expect(text).not.toMatch(/\bat .+:\d+:\d+/); // no stack frames
  return body.error;
}

describe("request validation", () => {
  // Each case sends the secret somewhere in the body: it must never come back in the error.
  const cases: [string, string, Record<string, unknown>, string | null, string][] = [
    ["n above OpenAI's 128", "/v1/chat/completions", chat({ n: 129, user: SECRET }), "n", "invalid_value"],
    ["n zero", "/v1/chat/completions", chat({ n: 0, user: SECRET }), "n", "invalid_value"],
    ["n as a string", "/v1/chat/completions", chat({ n: SECRET }), "n", "invalid_type"],
    ["temperature as a string", "/v1/chat/completions", chat({ temperature: SECRET }), "temperature", "invalid_type"],
    ["temperature above 2", "/v1/chat/completions", chat({ temperature: 2.5, user: SECRET }), "temperature", "invalid_value"],
    ["top_p above 1", "/v1/chat/completions", chat({ top_p: 1.5, user: SECRET }), "top_p", "invalid_value"],
    ["max_tokens as a float", "/v1/chat/completions", chat({ max_tokens: 1.5, user: SECRET }), "max_tokens", "invalid_type"],
    ["max_tokens zero", "/v1/chat/completions", chat({ max_tokens: 0, user: SECRET }), "max_tokens", "invalid_value"],
    ["five stop strings", "/v1/chat/completions", chat({ stop: ["a", "b", "c", "d", SECRET] }), "stop", "invalid_value"],
    ["a stop that is a number", "/v1/chat/completions", chat({ stop: 5, user: SECRET }), "stop", "invalid_type"],
    ["a logit_bias key that is not a token id", "/v1/chat/completions", chat({ logit_bias: { [SECRET]: 1 } }), "logit_bias", "invalid_value"],
    ["a logit_bias value out of range", "/v1/chat/completions", chat({ logit_bias: { "5": 101 }, user: SECRET }), "logit_bias.5", "invalid_value"],
    ["messages missing", "/v1/chat/completions", { model: "fake", user: SECRET }, "messages", "missing_required_parameter"],
    ["messages empty", "/v1/chat/completions", chat({ messages: [], user: SECRET }), "messages", "invalid_value"],
    ["model missing", "/v1/chat/completions", { messages: [{ role: "user", content: SECRET }] }, "model", "missing_required_parameter"],
    ["an unknown role", "/v1/chat/completions", chat({ messages: [{ role: "wizard", content: SECRET }] }), "messages[0].role", "invalid_value"],
    ["content as a number", "/v1/chat/completions", chat({ messages: [{ role: "user", content: 5, name: SECRET }] }), "messages[0].content", "invalid_type"],
    [
      "an image part",
      "/v1/chat/completions",
      chat({ messages: [{ role: "user", content: [{ type: "text", text: SECRET }, { type: "image_url", image_url: { url: SECRET } }] }] }),
      "messages[0].content[1].type",
      "unsupported_value",
    ],
    ["a text part without text", "/v1/chat/completions", chat({ messages: [{ role: "user", content: [{ type: "text", txt: SECRET }] }] }), "messages[0].content[0].text", "missing_required_parameter"],
    ["a tool message without tool_call_id", "/v1/chat/completions", chat({ messages: [{ role: "tool", content: SECRET }] }), "messages[0].tool_call_id", "missing_required_parameter"],
    ["a tool with a bad name", "/v1/chat/completions", chat({ tools: [{ type: "function", function: { name: `${SECRET}!` } }] }), "tools[0].function.name", "invalid_value"],
    ["tool_choice naming an absent tool", "/v1/chat/completions", chat({ tools: [{ type: "function", function: { name: "a" } }], tool_choice: { type: "function", function: { name: SECRET } } }), "tool_choice", "invalid_value"],
    ["tool_choice required without tools", "/v1/chat/completions", chat({ tool_choice: "required", user: SECRET }), "tool_choice", "invalid_value"],
    ["an unknown response_format", "/v1/chat/completions", chat({ response_format: { type: SECRET } }), "response_format.type", "invalid_value"],
    ["top_logprobs without logprobs", "/v1/chat/completions", chat({ top_logprobs: 2, user: SECRET }), "top_logprobs", "invalid_value"],
    ["stream_options without stream", "/v1/chat/completions", chat({ stream_options: { include_usage: true }, user: SECRET }), "stream_options", "invalid_value"],
    ["the deprecated functions API", "/v1/chat/completions", chat({ functions: [{ name: SECRET }] }), "functions", "unsupported_value"],
    ["a token-array prompt", "/v1/completions", { model: "fake", prompt: [1, 2, 3], user: SECRET }, "prompt", "unsupported_value"],
    ["two prompts", "/v1/completions", { model: "fake", prompt: [SECRET, SECRET] }, "prompt", "invalid_value"],
    ["echo true", "/v1/completions", { model: "fake", prompt: SECRET, echo: true }, "echo", "unsupported_value"],
    ["a suffix", "/v1/completions", { model: "fake", prompt: "x", suffix: SECRET }, "suffix", "unsupported_value"],
    ["best_of 2", "/v1/completions", { model: "fake", prompt: SECRET, best_of: 2 }, "best_of", "unsupported_value"],
    ["completions logprobs above 5", "/v1/completions", { model: "fake", prompt: SECRET, logprobs: 6 }, "logprobs", "invalid_value"],
    ["a token-array embedding input", "/v1/embeddings", { model: "fake", input: [[1, 2]], user: SECRET }, "input", "unsupported_value"],
    ["an empty embedding input", "/v1/embeddings", { model: "fake", input: [SECRET, ""] }, "input", "invalid_value"],
    ["an unknown encoding_format", "/v1/embeddings", { model: "fake", input: SECRET, encoding_format: "int8" }, "encoding_format", "invalid_value"],
    ["embedding dimensions", "/v1/embeddings", { model: "fake", input: SECRET, dimensions: 4 }, "dimensions", "unsupported_value"],
  ];

  for (const [name, path, body, param, code] of cases) {
    test(`Should answer 400 naming '${param}' - ${name} - without echoing the input`, async () => {
      const { app, generations, embeddings } = openAiApp();
      await expectBadRequest(await app.handle(post(path, body)), param, code);
      expect(generations).toHaveLength(0);
      expect(embeddings).toHaveLength(0);
    });
  }

  test("Should answer malformed JSON with 400 invalid_json - without echoing it", async () => {
    const { app, generations } = openAiApp();
    const response = await app.handle(
      new Request("http://localhost/v1/chat/completions", { method: "POST", headers: { "content-type": "application/json" }, body: `{"model": "fake", "x": ${SECRET}` }),
    );
    expect((await expectBadRequest(response, null, "invalid_json")).message).toBe("request body is not valid JSON");
    expect(generations).toHaveLength(0);
  });

  test("Should answer a JSON body that is not an object with 400", async () => {
    const { app } = openAiApp();
    await expectBadRequest(await app.handle(post("/v1/completions", [SECRET])), null, "invalid_json");
  });

  test("Should answer an empty body with 400", async () => {
    const { app } = openAiApp();
    await expectBadRequest(await app.handle(new Request("http://localhost/v1/chat/completions", { method: "POST" })), null, "invalid_json");
  });

  test("Should answer a bad X-Enclave-Wait-For-Model header with 400 naming it", async () => {
    const { app } = openAiApp();
    await expectBadRequest(await app.handle(post("/v1/chat/completions", chat(), { "x-enclave-wait-for-model": "maybe" })), "X-Enclave-Wait-For-Model");
  });
});

describe("engine errors", () => {
  test("Should answer an unknown model with 404 model_not_found", async () => {
    const { app } = openAiApp();
    for (const [path, body] of [
      ["/v1/chat/completions", chat({ model: "gpt-9" })],
      ["/v1/completions", { model: "gpt-9", prompt: "x" }],
      ["/v1/embeddings", { model: "gpt-9", input: "x" }],
    ] as const) {
      const response = await app.handle(post(path, body));
      expect(response.status).toBe(404);
      expect((await json(response)).error).toMatchObject({ type: "not_found_error", code: "model_not_found", param: "model" });
    }
  });

  test("Should answer a prompt longer than the context with 400 context_length_exceeded and the numbers", async () => {
    const { app } = openAiApp({ models: [{ id: "fake", contextSize: 64 }] });
    const words = Array.from({ length: 100 }, (_, i) => `w${i}`).join(" ");
    const response = await app.handle(post("/v1/chat/completions", chat({ messages: [{ role: "user", content: words }] })));
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(JSON.parse(text).error).toMatchObject({ code: "context_length_exceeded", n_prompt_tokens: 102, n_ctx: 64 });
    expect(text).not.toContain("w42");
  });

  test("Should answer 503 with Retry-After at once - when every sequence is busy and the queue is full", async () => {
    const { app } = openAiApp({ models: [{ id: "fake", parallel: 1, queueSize: 0 }], tokenDelayMs: 10, naturalLength: 10_000 });
    const busy = await app.handle(post("/v1/chat/completions", chat({ stream: true })));
    const reader = busy.body!.getReader();
    await reader.read();
    const started = performance.now();
    const response = await app.handle(post("/v1/chat/completions", chat({ stream: true })));
    expect(performance.now() - started).toBeLessThan(500);
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("1");
    expect(response.headers.get("content-type")).toStartWith("application/json");
    expect((await json(response)).error).toMatchObject({ type: "overloaded", code: "queue_full" });
    await reader.cancel();
  });

  test("Should answer 503 model_loading at once - when X-Enclave-Wait-For-Model is false and the model is loading", async () => {
    const { app, engine } = openAiApp({ models: [{ id: "fake", loadDelayMs: 200 }] });
    const loading = engine.start();
    const response = await app.handle(post("/v1/chat/completions", chat(), { "X-Enclave-Wait-For-Model": "false" }));
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).not.toBeNull();
    expect((await json(response)).error.code).toBe("model_loading");
    await loading;
  });

  test("Should wait for a loading model by default", async () => {
    const { app, engine } = openAiApp({ models: [{ id: "fake", loadDelayMs: 50 }] });
    const loading = engine.start();
    const response = await app.handle(post("/v1/chat/completions", chat()));
    expect(response.status).toBe(200);
    await loading;
  });
});
