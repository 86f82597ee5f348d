import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Llama } from "node-llama-cpp";
import { ContextLengthExceededError, ModelNotFoundError, OverloadedError } from "../../../src/errors";
import { expectedChatReply, expectedGreedyText } from "../../../src/forge";
import type { Engine } from "../../../src/inference/engine";
import { createLlamaEngine } from "../../../src/inference/llama-engine";
import { collect, forgeTinyPairs, modelConfig, sharedLlama, textRequest } from "./tiny-pair";

const silent = { debug() {}, info() {}, warn() {}, error() {} };
let forged: Awaited<ReturnType<typeof forgeTinyPairs>>;
let llama: Llama;
let engine: Engine;

beforeAll(async () => {
  forged = await forgeTinyPairs([0.2]);
  llama = await sharedLlama();
  const pair = forged.pairs.get(0.2)!;
  engine = createLlamaEngine({
    config: { engine: { gpu: "cpu", max_threads: 2 }, models: [modelConfig({ id: "tiny", path: pair.target, parallel: 2, queue_size: 4 }), modelConfig({ id: "lazy", path: pair.target, parallel: 1 })] },
    logger: silent,
    loadLlama: async () => llama,
  });
  await engine.start();
});

afterAll(async () => {
  await engine?.[Symbol.asyncDispose]();
  await llama?.dispose();
  forged?.[Symbol.dispose]();
});

describe("llama engine on the tiny forged model", () => {
  test("greedy text completion is exactly the forge's expected text, cut at maxTokens with finishReason length", async () => {
    const { options } = forged.pairs.get(0.2)!;
    const { text, done } = await collect(await engine.generate(textRequest("tiny", "abc", { sampling: { ...textRequest("", "").sampling, maxTokens: 20 } })));
    expect(text).toBe(expectedGreedyText("abc", 20, options));
    expect(done?.finishReason).toBe("length");
    expect(done?.usage.completionTokens).toBe(20);
  });

  test("a completion without maxTokens fills the context - the forge's exact text for all the room left, finishReason length", async () => {
    const { options } = forged.pairs.get(0.2)!;
    const unlimited = { ...textRequest("", "").sampling, maxTokens: undefined };
    const { text, done } = await collect(await engine.generate(textRequest("tiny", "abc", { sampling: unlimited })));
    const room = done!.usage.completionTokens;
    expect(room + done!.usage.promptTokens).toBe(256);
    expect(text).toBe(expectedGreedyText("abc", room, options));
    expect(done?.finishReason).toBe("length");
  });

  test("a chat reply follows the model's own template and ends by itself with finishReason stop", async () => {
    const { options } = forged.pairs.get(0.2)!;
    const input = { kind: "chat" as const, messages: [{ role: "user" as const, content: "hello" }], tools: [], toolChoice: "auto" as const };
    const { text, done } = await collect(await engine.generate(textRequest("tiny", "", { input, sampling: { ...textRequest("", "").sampling, maxTokens: 64 } })));
    expect(text).toBe(expectedChatReply(options));
    expect(done?.finishReason).toBe("stop");
  });

  test("generation ends before a stop sequence, which is not returned", async () => {
    const { text, done } = await collect(await engine.generate(textRequest("tiny", "abc", { sampling: { ...textRequest("", "").sampling, maxTokens: 20, stop: ["hij"] } })));
    expect(text).toBe("defg");
    expect(done?.finishReason).toBe("stop");
  });

  test("json_schema output parses and fits the schema", async () => {
    const schema = { type: "object", properties: { unit: { enum: ["celsius", "fahrenheit"] }, ok: { type: "boolean" } }, required: ["unit", "ok"] };
    const request = textRequest("tiny", "weather", { responseFormat: { type: "json_schema", name: "w", schema }, sampling: { ...textRequest("", "").sampling, maxTokens: 40 } });
    const { text } = await collect(await engine.generate(request));
    const value = JSON.parse(text);
    expect(["celsius", "fahrenheit"]).toContain(value.unit);
    expect(typeof value.ok).toBe("boolean");
  });

  test("a named toolChoice forces a call whose arguments fit the function's schema", async () => {
    const tools = [{ name: "set_unit", parameters: { type: "object", properties: { unit: { enum: ["c", "f"] }, loud: { type: "boolean" } }, required: ["unit", "loud"] } }];
    const input = { kind: "chat" as const, messages: [{ role: "user" as const, content: "hi" }], tools, toolChoice: { name: "set_unit" } };
    const { text, done } = await collect(await engine.generate(textRequest("tiny", "", { input, sampling: { ...textRequest("", "").sampling, maxTokens: 40 } })));
    expect(text).toBe("");
    expect(done?.finishReason).toBe("tool_calls");
    expect(done?.toolCalls[0]?.name).toBe("set_unit");
    const args = JSON.parse(done?.toolCalls[0]?.arguments ?? "");
    expect(["c", "f"]).toContain(args.unit);
    expect(typeof args.loud).toBe("boolean");
  });

  test("aborting mid-stream ends the stream and frees the sequence", async () => {
    const controller = new AbortController();
    const stream = await engine.generate(textRequest("tiny", "abc", { signal: controller.signal, sampling: { ...textRequest("", "").sampling, maxTokens: 200 } }));
    let chunks = 0;
    for await (const event of stream) {
      if (event.type === "text" && ++chunks === 3) controller.abort();
      expect(event.type).toBe("text");
    }
    await Bun.sleep(20);
    expect(engine.models()[0]?.busySequences).toBe(0);
    const { done } = await collect(await engine.generate(textRequest("tiny", "abc")));
    expect(done?.finishReason).toBe("length");
  });

  test("a prompt longer than the context rejects before streaming", async () => {
    const error = await engine.generate(textRequest("tiny", "abcdefghij ".repeat(40))).catch((caught) => caught);
    expect(error).toBeInstanceOf(ContextLengthExceededError);
    expect(error.details.n_ctx).toBe(256);
    expect(error.details.n_prompt_tokens).toBeGreaterThan(256);
    expect(engine.models()[0]?.busySequences).toBe(0);
  });

  test("an unknown model is ModelNotFoundError", async () => {
    await expect(engine.generate(textRequest("nope", "abc"))).rejects.toBeInstanceOf(ModelNotFoundError);
  });

  test("embeddings have the model's embedding size", async () => {
    const { options } = forged.pairs.get(0.2)!;
    const result = await engine.embed({ requestId: "e", model: "tiny", inputs: ["abc", "xyz"], signal: new AbortController().signal, waitForModel: true });
    expect(result.vectors).toHaveLength(2);
    expect(result.vectors[0]).toHaveLength(options.embeddingSize);
    expect(result.promptTokens).toBeGreaterThan(0);
  });

  test("two requests generate at once on the context's two sequences", async () => {
    const { options } = forged.pairs.get(0.2)!;
    const [a, b] = await Promise.all([engine.generate(textRequest("tiny", "abc")), engine.generate(textRequest("tiny", "xyz"))]);
    expect(engine.models()[0]?.busySequences).toBe(2);
    const [ra, rb] = await Promise.all([collect(a!), collect(b!)]);
    expect(ra.text).toBe(expectedGreedyText("abc", 16, options));
    expect(rb.text).toBe(expectedGreedyText("xyz", 16, options));
  });

  test("a model that is not loaded answers 503 model_loading to a client that will not wait, then loads", async () => {
    expect(engine.models().find((model) => model.id === "lazy")?.state).toBe("unloaded");
    const error = await engine.generate(textRequest("lazy", "abc", { waitForModel: false })).catch((caught) => caught);
    expect(error).toBeInstanceOf(OverloadedError);
    expect(error.code).toBe("model_loading");
    expect(error.retryAfterSeconds).toBeGreaterThan(0);
    const { done } = await collect(await engine.generate(textRequest("lazy", "abc")));
    expect(done?.finishReason).toBe("length");
    expect(engine.models().find((model) => model.id === "lazy")?.state).toBe("ready");
  });

  test("the first model is the default and the engine is ready once it loaded", () => {
    expect(engine.isReady()).toBe(true);
    expect(engine.models().map((model) => [model.id, model.isDefault])).toEqual([["tiny", true], ["lazy", false]]);
  });
});
