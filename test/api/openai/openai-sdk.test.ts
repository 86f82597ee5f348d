import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { chat, openAiApp } from "./harness";

/**
 * The real app on a loopback Bun server, driven by the official `openai` SDK: what a client in the
 * field sees, byte for byte, including SSE parsing and the SDK's error classes.
 */
describe("the official openai SDK against a live server", () => {
  const harness = openAiApp({ tokenDelayMs: 1, naturalLength: 100_000 });
  let client: OpenAI;
  let baseUrl: string;

  beforeAll(async () => {
    await harness.engine.start();
    harness.app.listen({ port: 0, hostname: "127.0.0.1" });
    baseUrl = `http://127.0.0.1:${harness.app.server!.port}/v1`;
    client = new OpenAI({ apiKey: "unused", baseURL: baseUrl, maxRetries: 0 });
  });
  afterAll(async () => {
    await harness.app.stop(true);
  });

  test("Should list models and complete a chat", async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(["fake"]);
    const completion = await client.chat.completions.create({ model: "fake", messages: [{ role: "user", content: "count 1 2 3" }], max_tokens: 3 });
    expect(completion.object).toBe("chat.completion");
    expect(completion.choices[0]?.message.content).toBe(" 4 5 6");
    expect(completion.choices[0]?.finish_reason).toBe("length");
    expect(completion.usage).toEqual({ prompt_tokens: 6, completion_tokens: 3, total_tokens: 9 });
  });

  test("Should stream a chat with usage - as the SDK's async iterator", async () => {
    const stream = await client.chat.completions.create({
      model: "fake",
      messages: [{ role: "user", content: "count 1 2 3" }],
      max_tokens: 3,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe(" 4 5 6");
    expect(finish).toBe("length");
    expect(usage).toEqual({ prompt_tokens: 6, completion_tokens: 3, total_tokens: 9 });
  });

  test("Should complete a prompt and embed text", async () => {
    const completion = await client.completions.create({ model: "fake", prompt: "1 2", max_tokens: 2 });
    expect(completion.choices[0]?.text).toBe(" 3 4");
    // The SDK asks for base64 by default and decodes it: this checks our float32 encoding too.
    const embeddings = await client.embeddings.create({ model: "fake", input: ["a", "b"] });
    expect(embeddings.data).toHaveLength(2);
    expect(embeddings.data[0]?.embedding).toHaveLength(8);
    const floats = await client.embeddings.create({ model: "fake", input: "a", encoding_format: "float" });
    expect(embeddings.data[0]?.embedding).toEqual(floats.data[0]!.embedding.map((f) => Math.fround(f)));
  });

  test("Should answer n choices, streamed and not - each its own index, usage counting all of them", async () => {
    const body = { model: "fake", messages: [{ role: "user" as const, content: "count 1 2 3" }], max_tokens: 3, n: 2 };
    const completion = await client.chat.completions.create(body);
    expect(completion.choices.map((c) => [c.index, c.message.content, c.finish_reason])).toEqual([
      [0, " 4 5 6", "length"],
      [1, " 4 5 6", "length"],
    ]);
    expect(completion.usage).toEqual({ prompt_tokens: 6, completion_tokens: 6, total_tokens: 12 });
    const streamed = await client.chat.completions.stream({ ...body, stream_options: { include_usage: true } }).finalChatCompletion();
    expect(streamed.choices.map((c) => [c.index, c.message.content, c.finish_reason])).toEqual(completion.choices.map((c) => [c.index, c.message.content, c.finish_reason]));
    expect(streamed.usage).toMatchObject({ completion_tokens: 6 });
    const text = await client.completions.create({ model: "fake", prompt: "count 1 2", max_tokens: 2, n: 2 });
    expect(text.choices.map((c) => [c.index, c.text])).toEqual([
      [0, " 3 4"],
      [1, " 3 4"],
    ]);
  });

  test("Should raise NotFoundError for an unknown model and BadRequestError for n above the model's sequences", async () => {
    const unknown = await failure(client.chat.completions.create({ model: "gpt-9", messages: [{ role: "user", content: "hi" }] }));
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect(unknown).toMatchObject({ status: 404, code: "model_not_found", param: "model" });
    const tooMany = await failure(client.chat.completions.create({ model: "fake", messages: [{ role: "user", content: "hi" }], n: 3 }));
    expect(tooMany).toBeInstanceOf(OpenAI.BadRequestError);
    expect(tooMany).toMatchObject({ status: 400, param: "n", type: "invalid_request_error" });
    expect((tooMany as Error).message).toContain("n is 3, but model 'fake' runs at most 2 sequences at once");
  });

  test("Should abort the engine's generation - when a streaming client disconnects", async () => {
    const before = harness.generations.length;
    const client = new AbortController();
    const response = await fetch(`${baseUrl}/chat/completions`, {
      method: "POST",
      body: JSON.stringify(chat({ max_tokens: 5000, stream: true })),
      signal: client.signal,
    });
    const reader = response.body!.getReader();
    await reader.read();
    const sent = harness.generations[before]!;
    expect(sent.signal.aborted).toBe(false);
    client.abort();
    await waitFor(() => sent.signal.aborted);
    await waitFor(() => harness.engine.models()[0]?.busySequences === 0);
  });

  test("Should abort the engine's generation - when a non-streaming client disconnects", async () => {
    const before = harness.generations.length;
    const client = new AbortController();
    const answer = fetch(`${baseUrl}/chat/completions`, {
      method: "POST",
      body: JSON.stringify(chat({ max_tokens: 5000 })),
      signal: client.signal,
    }).catch((error: Error) => error.name);
    await waitFor(() => harness.generations.length > before);
    const sent = harness.generations[before]!;
    await Bun.sleep(20);
    expect(sent.signal.aborted).toBe(false);
    client.abort();
    expect(await answer).toBe("AbortError");
    await waitFor(() => sent.signal.aborted);
    await waitFor(() => harness.engine.models()[0]?.busySequences === 0);
  });
});

/** The SDK's APIPromise is a thenable, not a Promise: settle it to the error it rejects with. */
async function failure(call: PromiseLike<unknown>): Promise<unknown> {
  try {
    await call;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail");
}

async function waitFor(condition: () => boolean, timeoutMs = 2000) {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error("condition not met in time");
    await Bun.sleep(5);
  }
}
