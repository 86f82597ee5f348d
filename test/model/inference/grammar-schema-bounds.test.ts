import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Llama } from "node-llama-cpp";
import { createOpenAiRoutes } from "../../../src/api/openai/routes";
import { configSchema } from "../../../src/config/schema";
import type { Engine } from "../../../src/inference/engine";
import { createLlamaEngine } from "../../../src/inference/llama-engine";
import { GRAMMAR_SCHEMA_LIMITS } from "../../../src/validation/grammar-schema";
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

const app = () => createTestApp({ engine, config: configSchema.parse({ server: { port: 0, body_limit_bytes: 4 * 1024 * 1024 } }), routes: [createOpenAiRoutes({ engine, gate: fixedCallerGate() })] }).app;
const chatWithTool = (parameters: unknown, extra: Record<string, unknown> = {}) =>
  request("/v1/chat/completions", {
    method: "POST",
    json: { model: "tiny", max_tokens: 8, messages: [{ role: "user", content: "hi" }], tools: [{ type: "function", function: { name: "f", parameters } }], tool_choice: "auto", ...extra },
  });

describe("JSON schemas the engine compiles into grammars, checked at the edge", () => {
  // Each of these gave 500 internal_error (node-llama-cpp's renderer threw) or engine_error before.
  test.each([
    ["an enum that is not an array", { type: "object", properties: { a: { enum: "abc" } } }, "tools[0].function.parameters.properties[0].enum"],
    ["a oneOf that is not an array", { oneOf: 5 }, "tools[0].function.parameters.oneOf"],
    ["a property that is null", { type: "object", properties: { a: null } }, "tools[0].function.parameters.properties[0]"],
    ["an empty enum", { type: "object", properties: { a: { enum: [] } } }, "tools[0].function.parameters.properties[0].enum"],
    ["a $ref to nothing", { type: "object", properties: { a: { $ref: "#/$defs/missing" } } }, "tools[0].function.parameters.properties[0].$ref"],
    ["an enum over the bound", { enum: Array.from({ length: 10_000 }, (_, i) => `v${i}`) }, "tools[0].function.parameters.enum"],
  ])("Should answer 400 naming the position - %s", async (_, parameters, param) => {
    const response = await app().handle(chatWithTool(parameters));
    expect(response.status).toBe(400);
    const body = (await response.json()) as any;
    expect(body.error).toMatchObject({ type: "invalid_request_error", param });
    expect(engine.models()[0]!.busySequences).toBe(0);
  });

  test("Should name a property by its position, never by its name", async () => {
    const response = await app().handle(chatWithTool({ type: "object", properties: { cnrySecretName: { enum: 1 } } }));
    expect(response.status).toBe(400);
    expect(await response.text()).not.toContain("cnrySecretName");
  });

  test("Should compile the largest schema the bounds allow in well under a second - grammar compilation cannot stall the server", async () => {
    const values = Array.from({ length: GRAMMAR_SCHEMA_LIMITS.choices }, (_, i) => `value-${i}`);
    const properties = Object.fromEntries(Array.from({ length: 3 }, (_, i) => [`p${i}`, { enum: values }]));
    const started = performance.now();
    const response = await app().handle(chatWithTool({ type: "object", properties, required: Object.keys(properties) }, { tool_choice: "required" }));
    expect(response.status).toBe(200);
    await response.text();
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  test.each([['"'], ["{"], [":"]])("Should complete a forced tool call whatever the stop strings (%p) - they apply to content, not to a call's arguments", async (stop) => {
    const response = await app().handle(chatWithTool({ type: "object", properties: { a: { enum: ["x", "y"] } }, required: ["a"] }, { tool_choice: { type: "function", function: { name: "f" } }, stop: [stop], max_tokens: 40 }));
    expect(response.status).toBe(200);
    const call = ((await response.json()) as any).choices[0].message.tool_calls[0];
    expect(call.function.name).toBe("f");
    expect(["x", "y"]).toContain(JSON.parse(call.function.arguments).a);
  });
});
