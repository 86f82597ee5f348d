import { describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import { z } from "zod";
import { createFakeEngine } from "../../src/inference/fake-engine";
import { createTestApp, request } from "../support/test-app";

const echoRoute = new Elysia().post("/echo", ({ body }) => body, { body: z.object({ text: z.string(), count: z.number().optional() }) });

function expectOpenAiError(body: any, type: string) {
  expect(Object.keys(body)).toEqual(["error"]);
  expect(body.error).toMatchObject({ type });
  expect(typeof body.error.message).toBe("string");
  expect(body.error).toHaveProperty("param");
  expect(body.error).toHaveProperty("code");
}

describe("app shell", () => {
  test("Should answer /health with 200 and a request id", async () => {
    const { app } = createTestApp();
    const response = await app.handle(request("/health"));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "ok" });
    expect(response.headers.get("x-request-id")).toMatch(/^req_/);
  });

  test("Should answer /ready 503 until the default model is loaded, then 200", async () => {
    const engine = createFakeEngine({ models: [{ id: "m", loadDelayMs: 30 }] });
    const { app } = createTestApp({ engine });
    const starting = engine.start();
    const before = await app.handle(request("/ready"));
    expect(before.status).toBe(503);
    expect(await before.json()).toMatchObject({ default_model: "not loaded" });
    await starting;
    expect((await app.handle(request("/ready"))).status).toBe(200);
  });

  test("Should answer /ready 503 - when the store is closed even with the model loaded", async () => {
    const engine = createFakeEngine();
    await engine.start();
    const { app } = createTestApp({ engine, storeIsOpen: () => false });
    const response = await app.handle(request("/ready"));
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ store: "closed" });
  });

  test("Should answer an unknown route with a 404 in OpenAI's error shape", async () => {
    const { app } = createTestApp();
    const response = await app.handle(request("/v2/nothing"));
    expect(response.status).toBe(404);
    expectOpenAiError(await response.json(), "not_found_error");
  });

  test("Should answer malformed JSON with 400 invalid_request_error - and no stack trace", async () => {
    const { app } = createTestApp({ routes: [echoRoute] });
    const response = await app.handle(request("/echo", { method: "POST", headers: { "content-type": "application/json" }, body: '{"text": "secret prompt' }));
    expect(response.status).toBe(400);
    const text = await response.text();
    expectOpenAiError(JSON.parse(text), "invalid_request_error");
    expect(text).not.toContain(" at ");
    expect(text).not.toContain("secret prompt");
  });

  test("Should answer a wrong type with 400 naming the param - not Elysia's 422, and without echoing the value", async () => {
    const { app } = createTestApp({ routes: [echoRoute] });
    const response = await app.handle(request("/echo", { method: "POST", json: { text: "secret prompt", count: "three" } }));
    expect(response.status).toBe(400);
    const body = (await response.json()) as any;
    expectOpenAiError(body, "invalid_request_error");
    expect(body.error.param).toBe("count");
    expect(JSON.stringify(body)).not.toContain("secret prompt");
  });

  test("Should answer an oversized body with 413 before reading it", async () => {
    const { app } = createTestApp({ routes: [echoRoute] });
    const text = "x".repeat(70 * 1024);
    const response = await app.handle(request("/echo", { method: "POST", json: { text }, headers: { "content-length": String(text.length + 11) } }));
    expect(response.status).toBe(413);
    const body = (await response.json()) as any;
    expectOpenAiError(body, "invalid_request_error");
    expect(body.error.code).toBe("request_too_large");
  });

  test("Should answer an unexpected error with a bare 500 - its message may quote input and stays inside", async () => {
    const failing = new Elysia().get("/boom", () => {
      throw new Error("failed on prompt: my secret");
    });
    const { app, logLines } = createTestApp({ routes: [failing] });
    const response = await app.handle(request("/boom"));
    expect(response.status).toBe(500);
    const text = await response.text();
    expectOpenAiError(JSON.parse(text), "api_error");
    expect(text).not.toContain("my secret");
    expect(logLines.join("\n")).not.toContain("my secret");
  });

  test("Should serve the OpenAPI document at /docs", async () => {
    const { app } = createTestApp();
    const response = await app.handle(request("/docs"));
    expect(response.status).toBe(200);
    const document = (await response.json()) as any;
    expect(document.openapi).toStartWith("3.");
    expect(Object.keys(document.paths)).toContain("/health");
  });
});
