import { describe, expect, test } from "bun:test";
import { fixedCallerGate } from "../../support/fixed-caller-gate";
import { createOpenAiRoutes } from "../../../src/api/openai/routes";
import { REQUEST_LIMITS as L } from "../../../src/api/openai/model";
import { createFakeEngine } from "../../../src/inference/fake-engine";
import { recordingEngine } from "../openai/harness";
import { createTestApp, request } from "../../support/test-app";

const CANARY = "CANARY-b0unds";

/** The OpenAI routes over a recording fake, with a body limit large enough that only the per-field bounds decide. */
function boundedApp() {
  const recorded = recordingEngine(createFakeEngine());
  const { app } = createTestApp({
    config: { server: { host: "127.0.0.1", port: 0, body_limit_bytes: 16 * 1024 * 1024, cors_origins: [], write_timeout_seconds: 30, shutdown_grace_seconds: 1 } },
    engine: recorded.engine,
    routes: [createOpenAiRoutes({ engine: recorded.engine, gate: fixedCallerGate() })],
  });
  return { app, ...recorded };
}

const long = (chars: number) => CANARY + "x".repeat(chars - CANARY.length + 1);
const chat = (body: Record<string, unknown>) => ({ model: "fake", messages: [{ role: "user", content: "count 1" }], ...body });
const many = <T>(count: number, item: (index: number) => T) => Array.from({ length: count }, (_, index) => item(index));
const tool = (index: number) => ({ type: "function", function: { name: `t${index}`, parameters: { type: "object" } } });

const cases: [string, string, unknown, string, string][] = [
  ["a stop string", "/v1/chat/completions", chat({ stop: long(L.stopChars) }), "stop", String(L.stopChars)],
  ["one of the stop strings", "/v1/chat/completions", chat({ stop: ["a", long(L.stopChars)] }), "stop[1]", String(L.stopChars)],
  ["the stop list", "/v1/chat/completions", chat({ stop: many(L.stops + 1, (i) => `s${i}`) }), "stop", String(L.stops)],
  ["the messages list", "/v1/chat/completions", chat({ messages: many(L.messages + 1, () => ({ role: "user", content: "a" })) }), "messages", String(L.messages)],
  ["a message's content", "/v1/chat/completions", chat({ messages: [{ role: "user", content: long(L.contentChars) }] }), "messages[0].content", String(L.contentChars)],
  ["a content part's text", "/v1/chat/completions", chat({ messages: [{ role: "user", content: [{ type: "text", text: long(L.contentChars) }] }] }), "messages[0].content[0].text", String(L.contentChars)],
  ["the content parts", "/v1/chat/completions", chat({ messages: [{ role: "user", content: many(L.contentParts + 1, () => ({ type: "text", text: "a" })) }] }), "messages[0].content", String(L.contentParts)],
  ["the tools list", "/v1/chat/completions", chat({ tools: many(L.tools + 1, tool) }), "tools", String(L.tools)],
  ["a tool's description", "/v1/chat/completions", chat({ tools: [{ type: "function", function: { name: "t", description: long(L.descriptionChars) } }] }), "tools[0].function.description", String(L.descriptionChars)],
  ["logit_bias", "/v1/chat/completions", chat({ logit_bias: Object.fromEntries(many(L.logitBiasEntries + 1, (i) => [String(i), 1])) }), "logit_bias", String(L.logitBiasEntries)],
  ["user", "/v1/chat/completions", chat({ user: long(L.userChars) }), "user", String(L.userChars)],
  ["a metadata value", "/v1/chat/completions", chat({ metadata: { k: long(L.metadataValueChars) } }), "metadata.k", String(L.metadataValueChars)],
  ["the metadata pairs", "/v1/chat/completions", chat({ metadata: Object.fromEntries(many(L.metadataPairs + 1, (i) => [`k${i}`, "v"])) }), "metadata", String(L.metadataPairs)],
  ["model", "/v1/chat/completions", chat({ model: long(L.modelChars) }), "model", String(L.modelChars)],
  ["a tool call's arguments in the history", "/v1/chat/completions", chat({ messages: [{ role: "assistant", content: null, tool_calls: [{ id: "c", type: "function", function: { name: "t", arguments: long(L.argumentsChars) } }] }, { role: "user", content: "a" }] }), "messages[0].tool_calls[0].function.arguments", String(L.argumentsChars)],
  ["the prompt", "/v1/completions", { model: "fake", prompt: long(L.contentChars) }, "prompt", String(L.contentChars)],
  ["a completion's stop", "/v1/completions", { model: "fake", prompt: "1", stop: long(L.stopChars) }, "stop", String(L.stopChars)],
  ["an embedding input", "/v1/embeddings", { model: "fake", input: ["a", long(L.contentChars)] }, "input", String(L.contentChars)],
];

describe("request bounds", () => {
  for (const [what, path, body, param, limit] of cases)
    test(`Should answer 400 naming '${param}' and its limit - ${what} over the limit - without echoing the value`, async () => {
      const { app, generations, embeddings } = boundedApp();
      const response = await app.handle(request(path, { method: "POST", json: body }));
      const text = await response.text();
      expect(response.status).toBe(400);
      const error = JSON.parse(text).error;
      expect(error).toMatchObject({ type: "invalid_request_error", param });
      expect(error.message).toContain(limit);
      expect(text).not.toContain(CANARY);
      expect(generations.length + embeddings.length).toBe(0);
    });

  test("Should refuse three requests with a 1 MB stop string before the engine - no memory amplification", async () => {
    const { app, generations } = boundedApp();
    const heapBefore = process.memoryUsage().rss;
    for (let i = 0; i < 3; i++) {
      const response = await app.handle(request("/v1/chat/completions", { method: "POST", json: chat({ stop: "s".repeat(1024 * 1024) }) }));
      expect(response.status).toBe(400);
      expect(((await response.json()) as any).error.param).toBe("stop");
    }
    expect(generations.length).toBe(0);
    expect(process.memoryUsage().rss - heapBefore).toBeLessThan(100 * 1024 * 1024);
  });

  test("Should serve requests at the limits - the bounds are inclusive", async () => {
    const { app } = boundedApp();
    const response = await app.handle(
      request("/v1/chat/completions", {
        method: "POST",
        json: chat({ stop: many(L.stops, () => "z".repeat(L.stopChars)), user: "u".repeat(L.userChars), metadata: { k: "v".repeat(L.metadataValueChars) }, max_tokens: 2 }),
      }),
    );
    expect(response.status).toBe(200);
  });
});
