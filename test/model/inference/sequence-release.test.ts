import { afterAll, beforeAll, describe, expect, spyOn, test } from "bun:test";
import { LlamaChat, type Llama } from "node-llama-cpp";
import { EngineError, InvalidRequestError, RequestTimeoutError } from "../../../src/errors";
import type { Engine } from "../../../src/inference/engine";
import { createLlamaEngine } from "../../../src/inference/llama-engine";
import type { GenerationEvent, GenerationRequest } from "../../../src/inference/types";
import { collect, forgeTinyPairs, modelConfig, sharedLlama, textRequest } from "./tiny-pair";

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const PARALLEL = 2;
let forged: Awaited<ReturnType<typeof forgeTinyPairs>>;
let llama: Llama;
let engine: Engine;
let slow: Engine;

beforeAll(async () => {
  forged = await forgeTinyPairs([0.2]);
  llama = await sharedLlama();
  const pair = forged.pairs.get(0.2)!;
  const draft = { path: pair.draft, min_tokens: 1, max_tokens: 16, min_confidence: 0.6, threads: 1, adaptive: true };
  engine = createLlamaEngine({
    config: { engine: { gpu: "cpu", max_threads: 2 }, models: [modelConfig({ id: "tiny", path: pair.target, parallel: PARALLEL, queue_size: 4, speculative: "draft", draft })] },
    logger: silent,
    loadLlama: async () => llama,
  });
  // A deadline far shorter than one whole-context generation takes on this model: a warm 2-core EPYC filled 512 cells
  // in 110 ms, so the context is four times that (past the model's trained length, which llama.cpp allows).
  slow = createLlamaEngine({
    config: { engine: { gpu: "cpu", max_threads: 2 }, limits: { max_request_seconds: 0.15 }, models: [modelConfig({ id: "tiny", path: pair.target, parallel: 1, context_size: 2048 })] },
    logger: silent,
    loadLlama: async () => llama,
  });
  await Promise.all([engine.start(), slow.start()]);
});

afterAll(async () => {
  await engine?.[Symbol.asyncDispose]();
  await slow?.[Symbol.asyncDispose]();
  await llama?.dispose();
  forged?.[Symbol.dispose]();
});

const busy = (on: Engine = engine) => on.models()[0]!.busySequences;
const sampling = (overrides: Partial<GenerationRequest["sampling"]> = {}) => ({ ...textRequest("", "").sampling, ...overrides });
const chat = (overrides: Parameters<typeof textRequest>[2] = {}) =>
  textRequest("tiny", "", { input: { kind: "chat", messages: [{ role: "user", content: "hello" }], tools: [], toolChoice: "auto" }, ...overrides });
const tools = [{ name: "f", parameters: { type: "object", properties: { a: { type: "string" } } } }];
/** A forced call under a JSON grammar that admits endless whitespace: the tiny model never closes it. */
const endless = () => textRequest("tiny", "", { input: { kind: "chat", messages: [{ role: "user", content: "hi" }], tools, toolChoice: "required" }, sampling: sampling({ maxTokens: null }) });

/** Every sequence must be free once a request has ended, however it ended, and the engine must still serve. */
async function expectAllFree(on: Engine = engine) {
  expect(busy(on)).toBe(0);
  const { done } = await collect(await on.generate(textRequest("tiny", "abc", { sampling: sampling({ maxTokens: 4 }) })));
  expect(done?.finishReason).toBe("length");
  expect(busy(on)).toBe(0);
}

async function outcome(stream: AsyncIterable<GenerationEvent>): Promise<{ events: GenerationEvent[]; error?: unknown }> {
  const events: GenerationEvent[] = [];
  try {
    for await (const event of stream) events.push(event);
    return { events };
  } catch (error) {
    return { events, error };
  }
}

describe("every generation ends and gives its sequence back", () => {
  test("Should end with a done event and free the sequence - logit_bias with speculative on (the draft once got the target's TokenBias and hung)", async () => {
    const request = chat({ speculative: "on", sampling: sampling({ maxTokens: 30, logitBias: { 5: 10, 6: -100 } }) });
    const { done } = await collect(await engine.generate(request));
    expect(done?.finishReason).toBeDefined();
    expect(done?.usage.draftTokensAccepted).toBeGreaterThan(0);
    await expectAllFree();
  });

  test("Should end and free the sequence - response_format json_object and tool_choice required, one after another on every slot", async () => {
    for (let round = 0; round < PARALLEL + 1; round++) {
      const json = await collect(await engine.generate(chat({ responseFormat: { type: "json_object" }, sampling: sampling({ maxTokens: 30 }) })));
      expect(json.done).toBeDefined();
      const input = { kind: "chat" as const, messages: [{ role: "user" as const, content: "hi" }], tools, toolChoice: "required" as const };
      const required = await collect(await engine.generate(textRequest("tiny", "", { input, speculative: "on", sampling: sampling({ maxTokens: 30 }) })));
      expect(required.done).toBeDefined();
      expect(busy()).toBe(0);
    }
    await expectAllFree();
  });

  test("Should reject and take no sequence - the client aborted before the request was admitted", async () => {
    const controller = new AbortController();
    controller.abort(new Error("client gone"));
    await expect(engine.generate(textRequest("tiny", "abc", { signal: controller.signal }))).rejects.toThrow("client gone");
    await expectAllFree();
  });

  test("Should end the stream without a done event and free the sequence - the client aborted before the first token", async () => {
    const controller = new AbortController();
    const stream = await engine.generate(textRequest("tiny", "abc", { signal: controller.signal, sampling: sampling({ maxTokens: 200 }) }));
    controller.abort();
    const { events, error } = await outcome(stream);
    expect(error).toBeUndefined();
    expect(events.some((event) => event.type === "done")).toBe(false);
    await expectAllFree();
  });

  test("Should end the stream and free the sequence at once - the client aborted mid-stream", async () => {
    const controller = new AbortController();
    const stream = await engine.generate(textRequest("tiny", "abc", { signal: controller.signal, sampling: sampling({ maxTokens: 200 }) }));
    let chunks = 0;
    for await (const event of stream) if (event.type === "text" && ++chunks === 3) controller.abort();
    await expectAllFree();
  });

  test("Should free the sequence - the reader stopped reading (broke out of the stream, or returned it before reading)", async () => {
    const stream = await engine.generate(textRequest("tiny", "abc", { sampling: sampling({ maxTokens: 200 }) }));
    for await (const _ of stream) break;
    const unread = await engine.generate(textRequest("tiny", "abc", { sampling: sampling({ maxTokens: 200 }) }));
    await unread[Symbol.asyncIterator]().return?.();
    // The reader is gone at once; the generation stops within a decode step.
    for (let wait = 0; wait < 100 && busy() > 0; wait++) await Bun.sleep(10);
    await expectAllFree();
  });

  test("Should reject with 400 and take no sequence - the grammar failed to compile", async () => {
    const spy = spyOn(llama, "createGrammarForJsonSchema").mockImplementationOnce(async () => {
      throw new Error("failed to parse grammar");
    });
    try {
      const schema = { type: "object", properties: { a: { type: "string" } } };
      const error = await engine.generate(chat({ responseFormat: { type: "json_schema", name: "s", schema } })).catch((caught) => caught);
      expect(error).toBeInstanceOf(InvalidRequestError);
    } finally {
      spy.mockRestore();
    }
    await expectAllFree();
  });

  test("Should fail with 504 request_timeout and free the sequence - a grammar that never lets the model stop runs into max_request_seconds", async () => {
    const started = performance.now();
    const stream = await slow.generate(endless());
    const { error } = await outcome(stream);
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect((error as RequestTimeoutError).status).toBe(504);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(busy(slow)).toBe(0);
  });

  test("Should reject with 504 request_timeout and leave the queue - a request that waited for a sequence past max_request_seconds", async () => {
    // The holder outlives the waiter's deadline (it does not stop for its own), so the waiter times out in the queue.
    const spy = spyOn(LlamaChat.prototype, "generateResponse").mockImplementationOnce(async () => {
      await Bun.sleep(400);
      throw new Error("held");
    });
    try {
      const first = await slow.generate(endless());
      const queued = slow.generate(textRequest("tiny", "abc")).catch((caught) => caught);
      expect(await queued).toBeInstanceOf(RequestTimeoutError);
      expect((await outcome(first)).error).toBeInstanceOf(RequestTimeoutError);
    } finally {
      spy.mockRestore();
    }
    expect(slow.models()[0]!.queueDepth).toBe(0);
    expect(busy(slow)).toBe(0);
  });

  test("Should fail with engine_error and free the sequence - node-llama-cpp threw during generation", async () => {
    const spy = spyOn(LlamaChat.prototype, "generateResponse").mockImplementationOnce(async () => {
      throw new TypeError("boom");
    });
    try {
      const { error } = await outcome(await engine.generate(chat()));
      expect(error).toBeInstanceOf(EngineError);
    } finally {
      spy.mockRestore();
    }
    await expectAllFree();
  });
});
