import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Llama } from "node-llama-cpp";
import { createAnthropicRoutes } from "../../../src/api/anthropic/routes";
import { createOpenAiRoutes } from "../../../src/api/openai/routes";
import { createResponsesRoutes } from "../../../src/api/responses/routes";
import { configSchema } from "../../../src/config/schema";
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

describe("one prompt through the three APIs on the forged model", () => {
  test("Should give the same greedy text and prompt tokens from chat completions, Responses, Messages and count_tokens - one translation onto one engine", async () => {
    const gate = fixedCallerGate();
    const { app } = createTestApp({
      engine,
      config: configSchema.parse({ server: { port: 0 } }),
      routes: [createOpenAiRoutes({ engine, gate }), createResponsesRoutes({ engine, gate }), createAnthropicRoutes({ engine, gate })],
    });
    const post = async (path: string, json: unknown) => {
      const response = await app.handle(request(path, { method: "POST", json }));
      expect(response.status).toBe(200);
      return (await response.json()) as any;
    };
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
});
