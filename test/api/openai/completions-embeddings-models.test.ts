import { describe, expect, test } from "bun:test";
import { json, openAiApp, post } from "./harness";
import { request } from "../../support/test-app";

describe("POST /v1/completions", () => {
  test("Should answer in OpenAI's text_completion shape", async () => {
    const { app } = openAiApp();
    const response = await app.handle(post("/v1/completions", { model: "fake", prompt: "1 2 3", max_tokens: 2 }));
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({
      id: `cmpl-${response.headers.get("x-request-id")}`,
      object: "text_completion",
      created: 1_750_000_000,
      model: "fake",
      choices: [{ text: " 4 5", index: 0, logprobs: null, finish_reason: "length" }],
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
    });
  });

  test("Should default max_tokens to 16 - OpenAI's default for this endpoint", async () => {
    const { app, generations } = openAiApp();
    await app.handle(post("/v1/completions", { model: "fake", prompt: "x" }));
    expect(generations[0]?.sampling.maxTokens).toBe(16);
    expect(generations[0]?.input).toEqual({ kind: "text", prompt: "x" });
  });

  test("Should accept a prompt given as an array of one string, and echo false, and an empty suffix", async () => {
    const { app, generations } = openAiApp();
    const response = await app.handle(post("/v1/completions", { model: "fake", prompt: ["1 2"], echo: false, suffix: "", stop: [" 4"] }));
    expect((await json(response)).choices[0]).toMatchObject({ text: " 3", finish_reason: "stop" });
    expect(generations[0]?.sampling.stop).toEqual([" 4"]);
  });

  test("Should return legacy logprobs - tokens, token_logprobs, top_logprobs, text_offset", async () => {
    const { app, generations } = openAiApp();
    const body = await json(await app.handle(post("/v1/completions", { model: "fake", prompt: "1 2", max_tokens: 2, logprobs: 1 })));
    expect(generations[0]?.topLogprobs).toBe(1);
    expect(body.choices[0].logprobs).toEqual({
      tokens: [" 3", " 4"],
      token_logprobs: [-0.01, -0.01],
      top_logprobs: [{ " 3": -0.01 }, { " 4": -0.01 }],
      text_offset: [3, 5],
    });
  });
});

describe("POST /v1/embeddings", () => {
  test("Should answer a list of float embeddings with usage", async () => {
    const { app, embeddings } = openAiApp({ models: [{ id: "fake", embeddingDimension: 4 }] });
    const response = await app.handle(post("/v1/embeddings", { model: "fake", input: ["one two", "three"] }));
    expect(response.status).toBe(200);
    const body = await json(response);
    expect(embeddings[0]?.inputs).toEqual(["one two", "three"]);
    expect(body).toMatchObject({ object: "list", model: "fake", usage: { prompt_tokens: 3, total_tokens: 3 } });
    expect(body.data.map((d: any) => [d.object, d.index, d.embedding.length])).toEqual([
      ["embedding", 0, 4],
      ["embedding", 1, 4],
    ]);
  });

  test("Should encode base64 as little-endian float32 - decoding to the float answer", async () => {
    const { app } = openAiApp();
    const floats = (await json(await app.handle(post("/v1/embeddings", { model: "fake", input: "hello" })))).data[0].embedding as number[];
    const encoded = (await json(await app.handle(post("/v1/embeddings", { model: "fake", input: "hello", encoding_format: "base64" })))).data[0].embedding;
    const decoded = Array.from(new Float32Array(new Uint8Array(Buffer.from(encoded, "base64")).buffer));
    expect(decoded).toEqual(floats.map((f) => Math.fround(f)));
  });
});

describe("GET /v1/models", () => {
  test("Should list the configured models in OpenAI's shape", async () => {
    const { app } = openAiApp({ models: [{ id: "fake" }, { id: "llama3:8b" }], created: 1_700_000_123 });
    const response = await app.handle(request("/v1/models"));
    expect(await json(response)).toEqual({
      object: "list",
      data: [
        { id: "fake", object: "model", created: 1_700_000_123, owned_by: "enclave" },
        { id: "llama3:8b", object: "model", created: 1_700_000_123, owned_by: "enclave" },
      ],
    });
  });

  test("Should answer one model by id - including ids with ':'", async () => {
    const { app } = openAiApp({ models: [{ id: "llama3:8b" }] });
    const response = await app.handle(request("/v1/models/llama3:8b"));
    expect(await json(response)).toMatchObject({ id: "llama3:8b", object: "model", owned_by: "enclave" });
    expect((await app.handle(request("/v1/models/llama3%3A8b"))).status).toBe(200);
  });

  test("Should answer an unknown model id with 404 model_not_found", async () => {
    const { app } = openAiApp();
    const response = await app.handle(request("/v1/models/gpt-9"));
    expect(response.status).toBe(404);
    expect((await json(response)).error).toMatchObject({ type: "not_found_error", code: "model_not_found", param: "model" });
  });
});
