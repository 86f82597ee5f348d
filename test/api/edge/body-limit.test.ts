import { describe, expect, test } from "bun:test";
import { createTestApp, request } from "../../support/test-app";
import { http, rawRequest, servedEdge } from "./served-edge";

const LIMIT = 2048;
const chat = (secret: string, body: string, headers: Record<string, string> = {}) =>
  http("POST /v1/chat/completions HTTP/1.1", { host: "127.0.0.1", authorization: `Bearer ${secret}`, "content-type": "application/json", ...headers }, body);

describe("request size limits at the served edge (raw TCP)", () => {
  test("Should answer an over-limit body with 413 in the API's error shape - declared by Content-Length", async () => {
    await using edge = await servedEdge({ server: { body_limit_bytes: LIMIT } });
    const body = "x".repeat(LIMIT + 1);
    const response = await rawRequest(edge.port, chat(edge.user, body, { "content-length": String(body.length) }));
    expect(response.status).toBe(413);
    expect(JSON.parse(response.body).error).toMatchObject({ type: "invalid_request_error", code: "request_too_large", limit_bytes: LIMIT });
  });

  test("Should answer 413 in the API's error shape at once - a declared length far beyond the limit, without the body", async () => {
    await using edge = await servedEdge({ server: { body_limit_bytes: LIMIT } });
    const response = await rawRequest(edge.port, chat(edge.user, "", { "content-length": String(10 * 1024 ** 3) }));
    expect(response.status).toBe(413);
    expect(JSON.parse(response.body).error.code).toBe("request_too_large");
  });

  test("Should answer an over-limit chunked body with 413 in the API's error shape - counted as it arrives", async () => {
    await using edge = await servedEdge({ server: { body_limit_bytes: LIMIT } });
    const chunk = "y".repeat(1000);
    const chunked = `${Array.from({ length: 4 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join("")}0\r\n\r\n`;
    const response = await rawRequest(edge.port, chat(edge.user, chunked, { "transfer-encoding": "chunked" }));
    expect(response.status).toBe(413);
    expect(JSON.parse(response.body).error).toMatchObject({ code: "request_too_large", limit_bytes: LIMIT });
  });

  test("Should serve a chunked body within the limit - read once at the edge, parsed by the route", async () => {
    await using edge = await servedEdge({ server: { body_limit_bytes: LIMIT } });
    const json = JSON.stringify({ model: "fake", messages: [{ role: "user", content: "count 1 2" }], max_tokens: 2 });
    const response = await rawRequest(edge.port, chat(edge.user, `${json.length.toString(16)}\r\n${json}\r\n0\r\n\r\n`, { "transfer-encoding": "chunked" }));
    expect(response.status).toBe(200);
    expect(response.body).toContain('"content":" 3 4"');
  });

  test("Should leave oversized headers to Bun's own 431 - it answers before the app runs, with an empty body", async () => {
    // Evidence that Enclave cannot shape it: Bun's HTTP parser refuses the request line + headers
    // beyond its header limit before any JS runs (the fetch handler is never called), so no JSON.
    await using edge = await servedEdge();
    const response = await rawRequest(edge.port, http("GET /health HTTP/1.1", { host: "127.0.0.1", "x-big": "a".repeat(64 * 1024) }));
    expect({ status: response.status, body: response.body }).toEqual({ status: 431, body: "" });
    expect(edge.logLines.some((line) => line.includes('"route":"/health"'))).toBe(false);
  });
});

describe("request size limits in process (app.handle)", () => {
  test("Should answer a chunked stream body over the limit with 413 - no Content-Length to go by", async () => {
    const { app } = createTestApp();
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > 200 * 1024) return controller.close();
        sent += 16 * 1024;
        controller.enqueue(new Uint8Array(16 * 1024).fill(32));
      },
    });
    const response = await app.handle(request("/v1/chat/completions", { method: "POST", body, headers: { "content-type": "application/json" } }));
    expect(response.status).toBe(413);
    expect(((await response.json()) as any).error.code).toBe("request_too_large");
    expect(sent).toBeLessThan(200 * 1024);
  });
});
