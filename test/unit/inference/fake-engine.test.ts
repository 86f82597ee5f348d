import { describe, expect, test } from "bun:test";
import { ContextLengthExceededError, InvalidRequestError, ModelNotFoundError, OverloadedError } from "../../../src/errors";
import { createFakeEngine, fakeContinuation } from "../../../src/inference/fake-engine";
import type { GenerationEvent, GenerationRequest } from "../../../src/inference/types";
import { generationRequest } from "../../support/generation-request";

function request(overrides: Parameters<typeof generationRequest>[0] = {}): GenerationRequest {
  return generationRequest({ requestId: "req-1", sampling: { maxTokens: 4 }, ...overrides });
}

async function collect(stream: AsyncIterable<GenerationEvent>) {
  const events: GenerationEvent[] = [];
  for await (const event of stream) events.push(event);
  const text = events.flatMap((event) => (event.type === "text" ? [event.text] : [])).join("");
  const done = events.find((event) => event.type === "done");
  return { events, text, done };
}

describe("fake engine", () => {
  test("continues with the successor rule and stops at maxTokens with finishReason length", async () => {
    await using engine = createFakeEngine();
    const { text, done } = await collect(await engine.generate(request()));
    expect(text).toBe(" 4 5 6 7");
    expect(text).toBe(fakeContinuation({ kind: "text", prompt: "count: 1 2 3" }, 4).join(""));
    expect(done).toEqual({ type: "done", finishReason: "length", toolCalls: [], usage: { promptTokens: 4, completionTokens: 4 } });
  });

  test("ends with finishReason stop before the stop string, which is never shown", async () => {
    await using engine = createFakeEngine();
    const sampling = { ...request().sampling, maxTokens: null, stop: [" 6"] };
    const { text, done } = await collect(await engine.generate(request({ sampling })));
    expect(text).toBe(" 4 5");
    expect(done?.type === "done" && done.finishReason).toBe("stop");
  });

  test("ends by itself after naturalLength tokens when maxTokens is null", async () => {
    await using engine = createFakeEngine({ naturalLength: 3 });
    const sampling = { ...request().sampling, maxTokens: null };
    const { text, done } = await collect(await engine.generate(request({ sampling })));
    expect(text).toBe(" 4 5 6");
    expect(done?.type === "done" && done.finishReason).toBe("stop");
  });

  test("rejects an unknown model with ModelNotFoundError", async () => {
    await using engine = createFakeEngine();
    await expect(engine.generate(request({ model: "nope" }))).rejects.toBeInstanceOf(ModelNotFoundError);
  });

  test("rejects a prompt that does not fit before streaming", async () => {
    await using engine = createFakeEngine({ models: [{ id: "fake", contextSize: 64 }] });
    const prompt = "word ".repeat(100);
    const error = await engine.generate(request({ input: { kind: "text", prompt } })).catch((caught) => caught);
    expect(error).toBeInstanceOf(ContextLengthExceededError);
    expect(error.details).toEqual({ n_prompt_tokens: 100, n_ctx: 64 });
  });

  test("answers 503 when every sequence is busy and the queue is full", async () => {
    await using engine = createFakeEngine({ models: [{ id: "fake", parallel: 1, queueSize: 0 }], tokenDelayMs: 50 });
    const busy = await engine.generate(request());
    await expect(engine.generate(request())).rejects.toBeInstanceOf(OverloadedError);
    expect(engine.models()[0]?.busySequences).toBe(1);
    await collect(busy);
    expect(engine.models()[0]?.busySequences).toBe(0);
  });

  test("abort ends the stream without done and frees the sequence", async () => {
    await using engine = createFakeEngine({ models: [{ id: "fake", parallel: 1 }], tokenDelayMs: 20 });
    const controller = new AbortController();
    const stream = await engine.generate(request({ signal: controller.signal, sampling: { ...request().sampling, maxTokens: 100 } }));
    setTimeout(() => controller.abort(), 30);
    const { done } = await collect(stream);
    expect(done).toBeUndefined();
    expect(engine.models()[0]?.busySequences).toBe(0);
  });

  test("a stream returned before it is read still frees its sequence", async () => {
    await using engine = createFakeEngine({ models: [{ id: "fake", parallel: 1 }] });
    const stream = await engine.generate(request());
    await stream[Symbol.asyncIterator]().return?.();
    expect(engine.models()[0]?.busySequences).toBe(0);
  });

  test("a model that is still loading answers 503 model_loading when the client will not wait", async () => {
    await using engine = createFakeEngine({ models: [{ id: "fake" }, { id: "slow", loadDelayMs: 50 }] });
    await engine.start();
    expect(engine.isReady()).toBe(true);
    const error = await engine.generate(request({ model: "slow", waitForModel: false })).catch((caught) => caught);
    expect(error).toBeInstanceOf(OverloadedError);
    expect(error.code).toBe("model_loading");
    expect(error.retryAfterSeconds).toBeGreaterThan(0);
    await collect(await engine.generate(request({ model: "slow" })));
    expect(engine.models().find((model) => model.id === "slow")?.state).toBe("ready");
  });

  test("json_schema output parses and has the schema's properties", async () => {
    await using engine = createFakeEngine();
    const schema = { type: "object", properties: { name: { type: "string" }, age: { type: "integer" } }, required: ["name", "age"] };
    const sampling = { ...request().sampling, maxTokens: null };
    const { text } = await collect(await engine.generate(request({ sampling, responseFormat: { type: "json_schema", name: "person", schema } })));
    expect(JSON.parse(text)).toEqual({ name: "text", age: 1 });
  });

  test("toolChoice required forces a call with arguments that fit the schema", async () => {
    await using engine = createFakeEngine();
    const tools = [{ name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } }];
    const input = { kind: "chat" as const, messages: [{ role: "user" as const, content: "hello" }], tools, toolChoice: "required" as const };
    const { done } = await collect(await engine.generate(request({ input })));
    expect(done?.type === "done" && done.finishReason).toBe("tool_calls");
    expect(done?.type === "done" && JSON.parse(done.toolCalls[0]?.arguments ?? "")).toEqual({ city: "text" });
  });

  test("a toolChoice naming an unknown function is an invalid request", async () => {
    await using engine = createFakeEngine();
    const input = { kind: "chat" as const, messages: [{ role: "user" as const, content: "hi" }], tools: [], toolChoice: { name: "x" } };
    await expect(engine.generate(request({ input }))).rejects.toBeInstanceOf(InvalidRequestError);
  });

  test("logprobs come with every token when asked for", async () => {
    await using engine = createFakeEngine();
    const { events } = await collect(await engine.generate(request({ topLogprobs: 2 })));
    const logprobs = events.flatMap((event) => (event.type === "text" ? (event.logprobs ?? []) : []));
    expect(logprobs.map((entry) => entry.token)).toEqual([" 4", " 5", " 6", " 7"]);
    expect(logprobs[0]?.top).toHaveLength(2);
  });

  test("embeddings are unit vectors of the configured dimension, equal for equal text", async () => {
    await using engine = createFakeEngine({ models: [{ id: "fake", embeddingDimension: 5 }] });
    const result = await engine.embed({ requestId: "e", model: "fake", inputs: ["a b", "a b", "c"], signal: new AbortController().signal, waitForModel: true });
    expect(result.vectors[0]).toHaveLength(5);
    expect(result.vectors[0]).toEqual(result.vectors[1]!);
    expect(result.vectors[0]).not.toEqual(result.vectors[2]!);
    expect(Math.hypot(...result.vectors[0]!)).toBeCloseTo(1);
    expect(result.promptTokens).toBe(5);
  });
});
