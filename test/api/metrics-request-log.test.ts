import { describe, expect, test } from "bun:test";
import { createLogger } from "../../src/logging/logger";
import { request } from "../support/test-app";
import { metricsApp } from "./metrics-harness";

const CANARY = "CANARY-7f3a9c1e-do-not-log";
const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });
const post = (path: string, secret: string, json: unknown) => request(path, { method: "POST", headers: bearer(secret), json });
const parsed = (lines: string[]) => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
const requestLines = (lines: string[]) => parsed(lines).filter((line) => line.msg === "request");

describe("request log", () => {
  test("Should write one JSON line per request with its request id, method, route pattern, status and duration", async () => {
    using h = await metricsApp({ logLevel: "info" });
    await h.engine.start();
    const response = await h.app.handle(request("/v1/models/fake?include=secret-query", { headers: bearer(h.secret) }));
    expect(response.status).toBe(200);
    const [line, ...rest] = requestLines(h.logLines);
    expect(rest).toEqual([]);
    expect(line).toMatchObject({ level: "info", msg: "request", requestId: response.headers.get("x-request-id"), method: "GET", route: "/v1/models/:id", status: 200 });
    expect(typeof line!.durationMs).toBe("number");
    expect(JSON.stringify(line)).not.toContain("secret-query");
  });

  test("Should carry the error code of an error answer, and only a marker and the path's length when no route matched - the path is client input", async () => {
    using h = await metricsApp({ logLevel: "info" });
    await h.app.handle(request("/v1/chat/completions", { method: "POST", json: {} }));
    await h.app.handle(request("/no/such/route?token=abc"));
    const [unauthorized, unmatched] = requestLines(h.logLines);
    expect(unauthorized).toMatchObject({ route: "/v1/chat/completions", status: 401, code: "missing_api_key" });
    expect(unmatched).toMatchObject({ route: null, path: "unmatched", pathLength: "/no/such/route".length, status: 404, code: "not_found" });
    expect(JSON.stringify(unmatched)).not.toContain("token=abc");
    expect(JSON.stringify(unmatched)).not.toContain("/no/such");
  });

  test("Should log a stream when its last byte is read - its duration covers the whole stream", async () => {
    using h = await metricsApp({ logLevel: "info", fake: { tokenDelayMs: 15 } });
    await h.engine.start();
    const response = await h.app.handle(post("/v1/completions", h.secret, { model: "fake", prompt: "1", max_tokens: 6, stream: true }));
    expect(requestLines(h.logLines)).toEqual([]);
    await response.text();
    const [line] = requestLines(h.logLines);
    expect(line).toMatchObject({ route: "/v1/completions", status: 200, requestId: response.headers.get("x-request-id") });
    expect(line!.durationMs as number).toBeGreaterThanOrEqual(6 * 15 - 5);
  });

  test("Should log a stream the client abandoned", async () => {
    using h = await metricsApp({ logLevel: "info", fake: { tokenDelayMs: 10 } });
    await h.engine.start();
    const response = await h.app.handle(post("/v1/completions", h.secret, { model: "fake", prompt: "1", max_tokens: 50, stream: true }));
    const reader = response.body!.getReader();
    await reader.read();
    await reader.cancel();
    expect(requestLines(h.logLines)).toHaveLength(1);
  });

  test("Should never log a prompt, completion, tool payload or API key - a debug-level run of canary requests", async () => {
    using h = await metricsApp({ logLevel: "trace", fake: { fault: (r) => (r.input.kind === "text" && r.input.prompt.includes("fail") ? "stream" : undefined) } });
    await h.engine.start();
    const secretKey = h.secret;
    const canaryTool = { type: "function", function: { name: "lookup", description: CANARY, parameters: { type: "object", properties: { q: { type: "string", description: CANARY } } } } };
    const requests = [
      post("/v1/chat/completions", secretKey, { model: "fake", messages: [{ role: "system", content: CANARY }, { role: "user", content: `${CANARY} count 1 2` }] }),
      post("/v1/chat/completions", secretKey, { model: "fake", stream: true, messages: [{ role: "user", content: `${CANARY} 41` }] }),
      post("/v1/chat/completions", secretKey, { model: "fake", tools: [canaryTool], tool_choice: "required", messages: [{ role: "user", content: CANARY }] }),
      post("/v1/chat/completions", secretKey, { model: "fake", messages: [{ role: "user", content: CANARY }], response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: "object", properties: { [CANARY]: { type: "string" } } } } } }),
      post("/v1/completions", secretKey, { model: "fake", prompt: `${CANARY} 7`, max_tokens: 3 }),
      post("/v1/completions", secretKey, { model: "fake", prompt: `${CANARY} fail 7`, stream: true }),
      post("/v1/embeddings", secretKey, { model: "fake", input: [CANARY, `${CANARY} two`] }),
      // Errors: a bad parameter, a model name, a context overflow, malformed JSON, a query string.
      post("/v1/chat/completions", secretKey, { model: "fake", messages: [{ role: CANARY, content: CANARY }] }),
      post("/v1/chat/completions", secretKey, { model: CANARY, messages: [{ role: "user", content: CANARY }] }),
      post("/v1/completions", secretKey, { model: "fake", prompt: `${CANARY} `.repeat(5000) }),
      request("/v1/chat/completions", { method: "POST", headers: { ...bearer(secretKey), "content-type": "application/json" }, body: `{"model":"fake","messages":[{"content":"${CANARY}` }),
      request(`/v1/models?q=${CANARY}`, { headers: bearer(secretKey) }),
      request("/v1/models", { headers: bearer(`${CANARY}-not-a-key`) }),
    ];
    for (const each of requests) await (await h.app.handle(each)).text();

    expect(requestLines(h.logLines)).toHaveLength(requests.length);
    for (const line of h.logLines) {
      expect(() => JSON.parse(line)).not.toThrow();
      expect(line).not.toContain(CANARY);
      expect(line).not.toContain(secretKey);
    }
  });
});

describe("logger", () => {
  test("Should redact credentials and payload fields a careless log call passes - at the top level and one object down", () => {
    const lines: string[] = [];
    const logger = createLogger({ logging: { level: "trace" } }, { write: (line: string) => void lines.push(line) });
    logger.debug({ prompt: CANARY, messages: [CANARY], headers: { authorization: `Bearer ${CANARY}` }, request: { body: CANARY, input: CANARY, content: CANARY }, apiKey: CANARY }, "careless");
    logger.trace({ error: { completion: CANARY, arguments: CANARY, token: CANARY, secret: CANARY } }, "careless");
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).not.toContain(CANARY);
    expect(JSON.parse(lines[0]!)).toMatchObject({ prompt: "[redacted]", request: { body: "[redacted]" } });
  });
});
