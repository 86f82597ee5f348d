import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Llama } from "node-llama-cpp";
import { createAnthropicRoutes } from "../../../src/api/anthropic/routes";
import { createOpenAiRoutes } from "../../../src/api/openai/routes";
import { createResponsesRoutes } from "../../../src/api/responses/routes";
import { configSchema } from "../../../src/config/schema";
import { createChoicesEngine } from "../../../src/inference/choices-engine";
import type { Engine } from "../../../src/inference/engine";
import { createLlamaEngine } from "../../../src/inference/llama-engine";
import { fixedCallerGate } from "../../support/fixed-caller-gate";
import { createTestApp, request } from "../../support/test-app";
import { forgeTinyPairs, modelConfig, sharedLlama } from "./tiny-pair";

let forged: Awaited<ReturnType<typeof forgeTinyPairs>>;
let llama: Llama;
let engine: Engine;

beforeAll(async () => {
  forged = await forgeTinyPairs([0.2]);
  llama = await sharedLlama();
  engine = createLlamaEngine({
    config: { engine: { gpu: "cpu", max_threads: 2 }, models: [modelConfig({ id: "tiny", path: forged.pairs.get(0.2)!.target, parallel: 2 })] },
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    loadLlama: async () => llama,
  });
  await engine.start();
});

afterAll(async () => {
  await engine?.[Symbol.asyncDispose]();
  forged?.[Symbol.dispose]();
});

async function post(path: string, json: unknown) {
  const gate = fixedCallerGate();
  // As composed for serving: OpenAI's `n` fans out over the model's sequences above the engine.
  const served = createChoicesEngine(engine);
  const { app } = createTestApp({
    engine: served,
    config: configSchema.parse({ server: { port: 0 } }),
    routes: [createOpenAiRoutes({ engine: served, gate }), createResponsesRoutes({ engine: served, gate }), createAnthropicRoutes({ engine: served, gate })],
  });
  const response = await app.handle(request(path, { method: "POST", json }));
  expect(response.status).toBe(200);
  return (await response.json()) as any;
}

describe("one prompt through the three APIs on the forged model", () => {
  test("Should give the same greedy text and prompt tokens from chat completions, Responses, Messages and count_tokens - one translation onto one engine", async () => {
    const chat = await post("/v1/chat/completions", { model: "tiny", temperature: 0, max_tokens: 12, messages: [{ role: "user", content: "hi" }] });
    const responses = await post("/v1/responses", { model: "tiny", temperature: 0, max_output_tokens: 12, input: "hi" });
    const messages = await post("/v1/messages", { model: "tiny", temperature: 0, max_tokens: 12, messages: [{ role: "user", content: "hi" }] });
    const text = chat.choices[0].message.content;
    expect(text.length).toBeGreaterThan(0);
    expect(responses.output.find((item: any) => item.type === "message").content[0].text).toBe(text);
    expect(messages.content[0].text).toBe(text);
    expect(responses.usage.input_tokens).toBe(chat.usage.prompt_tokens);
    // The same caller's repeat is read from its prompt cache; Anthropic counts those reads beside input_tokens.
    expect(messages.usage.input_tokens + messages.usage.cache_read_input_tokens).toBe(chat.usage.prompt_tokens);
    expect(messages.usage.cache_read_input_tokens).toBeGreaterThan(0);
    // count_tokens counts with the model's own tokenizer and chat template, without generating.
    const counted = await post("/v1/messages/count_tokens", { model: "tiny", messages: [{ role: "user", content: "hi" }] });
    expect(counted.input_tokens).toBe(chat.usage.prompt_tokens);
  });

  test("Should return a forced call cut by max_tokens as far as it got in each API's own way - never an empty answer", async () => {
    const tool = { name: "lookup", description: "look a word up", parameters: { type: "object", properties: { word: { enum: ["alpha", "beta"] }, count: { type: "integer", maximum: 9, minimum: 0 } }, required: ["word", "count"] } };
    const chat = (maxTokens: number) =>
      post("/v1/chat/completions", {
        model: "tiny",
        temperature: 0,
        max_tokens: maxTokens,
        messages: [{ role: "user", content: "hi" }],
        tools: [{ type: "function", function: tool }],
        tool_choice: { type: "function", function: { name: "lookup" } },
      });
    const whole = await chat(64);
    const cut = await chat(3);
    expect(whole.choices[0].finish_reason, JSON.stringify(whole.choices[0])).toBe("tool_calls");
    const wholeArguments: string = whole.choices[0].message.tool_calls[0].function.arguments;
    expect(cut.choices[0].finish_reason).toBe("length");
    const cutArguments: string = cut.choices[0].message.tool_calls[0].function.arguments;
    expect(cutArguments.length).toBeGreaterThan(0);
    // Greedy: the cut call is the start of the whole one (which is re-serialized, so compare without spaces; the values have none).
    expect(cutArguments.replaceAll(/\s/g, "").length).toBeGreaterThan(1);
    expect(wholeArguments.startsWith(cutArguments.replaceAll(/\s/g, ""))).toBe(true);
    expect(cut.usage.completion_tokens).toBe(3);
    // "required" with one tool can only be that tool: even two tokens name it.
    const required = await post("/v1/chat/completions", {
      model: "tiny",
      temperature: 0,
      max_tokens: 2,
      messages: [{ role: "user", content: "hi" }],
      tools: [{ type: "function", function: tool }],
      tool_choice: "required",
    });
    expect(required.choices[0].finish_reason).toBe("length");
    expect(required.choices[0].message.tool_calls).toEqual([expect.objectContaining({ function: expect.objectContaining({ name: "lookup" }) })]);

    const responses = await post("/v1/responses", {
      model: "tiny",
      temperature: 0,
      max_output_tokens: 3,
      input: "hi",
      tools: [{ type: "function", ...tool }],
      tool_choice: { type: "function", name: "lookup" },
    });
    expect(responses.status).toBe("incomplete");
    expect(responses.output).toEqual([expect.objectContaining({ type: "function_call", status: "incomplete", name: "lookup", arguments: cutArguments })]);

    const messages = await post("/v1/messages", {
      model: "tiny",
      temperature: 0,
      max_tokens: 3,
      messages: [{ role: "user", content: "hi" }],
      tools: [{ name: tool.name, description: tool.description, input_schema: tool.parameters }],
      tool_choice: { type: "tool", name: "lookup" },
    });
    expect(messages.stop_reason).toBe("max_tokens");
    expect(messages.content).toEqual([expect.objectContaining({ type: "tool_use", name: "lookup", input: expect.any(Object) })]);
  });

  test("Should answer n choices on the model's sequences, the same with the same seed and greedy ones identical - n batched on one engine", async () => {
    const body = { model: "tiny", max_tokens: 10, messages: [{ role: "user", content: "hi" }], n: 2 };
    const greedy = await post("/v1/chat/completions", { ...body, temperature: 0 });
    const greedyTexts = greedy.choices.map((choice: any) => choice.message.content);
    expect(greedyTexts).toHaveLength(2);
    expect(greedyTexts[1]).toBe(greedyTexts[0]);
    expect(greedy.usage.completion_tokens).toBe(20);
    const sampled = () => post("/v1/chat/completions", { ...body, temperature: 1.5, seed: 7 });
    const first = (await sampled()).choices.map((choice: any) => choice.message.content);
    const again = (await sampled()).choices.map((choice: any) => choice.message.content);
    expect(again).toEqual(first);
  });

  test("Should sample only the most likely token with top_k 1 and stop at a stop sequence the model writes - Messages' own sampling on the engine", async () => {
    const message = (extra: Record<string, unknown>) => post("/v1/messages", { model: "tiny", max_tokens: 12, messages: [{ role: "user", content: "hi" }], ...extra });
    const greedy = (await message({ temperature: 0 })).content[0].text as string;
    const topOne = await message({ temperature: 1, top_k: 1 });
    expect(topOne.content[0].text).toBe(greedy);
    // A stop sequence taken from the middle of what the model writes greedily.
    expect(greedy.length).toBeGreaterThan(6);
    const stop = greedy.slice(Math.floor(greedy.length / 2), Math.floor(greedy.length / 2) + 3);
    const stopped = await message({ temperature: 0, stop_sequences: [stop] });
    expect(stopped.stop_reason).toBe("stop_sequence");
    expect(stopped.stop_sequence).toBe(stop);
    expect(stopped.content[0].text).toBe(greedy.slice(0, greedy.indexOf(stop)));
  });
});
