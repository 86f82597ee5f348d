import { describe, expect, test } from "bun:test";
import { http, rawRequest, servedEdge, type RawResponse } from "./served-edge";

/** The API's error shape and nothing of Bun's development page or of the code. */
function expectApiError(response: RawResponse, status: number) {
  expect({ status: response.status, type: response.head.match(/content-type: ([^\r\n]+)/i)?.[1] }).toEqual({ status, type: "application/json" });
  const body = JSON.parse(response.body) as { error: Record<string, unknown> };
  expect(Object.keys(body.error)).toEqual(expect.arrayContaining(["message", "type", "param", "code"]));
  expect(response.body).not.toContain("<html");
  expect(response.body).not.toContain("    at ");
  return body.error;
}

describe("request targets at the served edge (raw TCP)", () => {
  test("Should answer CONNECT, TRACE and extension methods with 405 in the API's error shape - never Bun's development error page", async () => {
    await using edge = await servedEdge();
    for (const line of ["CONNECT 127.0.0.1:22 HTTP/1.1", "TRACE / HTTP/1.1", "PROPFIND /v1/models HTTP/1.1", "CONNECT /v1/models HTTP/1.1"]) {
      const response = await rawRequest(edge.port, http(line, { host: "127.0.0.1:22" }));
      expect({ line, code: expectApiError(response, 405).code }).toEqual({ line, code: "method_not_allowed" });
    }
    expect((await rawRequest(edge.port, http("GET /health HTTP/1.1"))).status).toBe(200);
  });

  test("Should route an absolute-form target on its path - GET http://x/v1/models is /v1/models", async () => {
    await using edge = await servedEdge();
    const response = await rawRequest(edge.port, http("GET http://x/v1/models HTTP/1.1", { host: "a", authorization: `Bearer ${edge.user}` }));
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body).object).toBe("list");
  });

  test("Should leave what Bun refuses before the app runs without a body - OPTIONS *, GET *, a relative target, a request without Host", async () => {
    // Bun answers these itself with an empty 400 (the fetch handler is never called): no HTML, no 500.
    await using edge = await servedEdge();
    for (const bytes of [http("OPTIONS * HTTP/1.1"), http("GET * HTTP/1.1"), http("GET v1/models HTTP/1.1"), "GET /v1/models HTTP/1.1\r\nconnection: close\r\n\r\n"]) {
      const response = await rawRequest(edge.port, bytes);
      expect({ status: response.status, body: response.body }).toEqual({ status: 400, body: "" });
    }
  });

  test("Should route on the parsed path whatever the Host - GET /v1/admin/keys with Host: x is not /admin/keys", async () => {
    await using edge = await servedEdge();
    for (const host of ["x", "ab", "abc"]) {
      const response = await rawRequest(edge.port, http("GET /v1/admin/keys HTTP/1.1", { host, authorization: `Bearer ${edge.admin}` }));
      expect({ host, code: expectApiError(response, 404).code }).toEqual({ host, code: "not_found" });
    }
    const models = await rawRequest(edge.port, http("GET /v1/models HTTP/1.1", { host: "x", authorization: `Bearer ${edge.user}` }));
    expect(models.status).toBe(200);
    const admin = await rawRequest(edge.port, http("GET /admin/keys HTTP/1.1", { host: "x", authorization: `Bearer ${edge.admin}` }));
    expect(admin.status).toBe(200);
  });

  test("Should answer 400 to dot-segments, literal or percent-encoded - /v1/../admin never reaches /admin", async () => {
    await using edge = await servedEdge();
    for (const path of ["/v1/../admin/keys", "/v1/%2e%2e/admin/keys", "/v1/%2E%2e/metrics", "/v1/./../ui", "/v1/%2e%2e%2fadmin/keys", "/v1/..%2fadmin/keys", "/admin/../v1/models", "/health/../admin/keys"]) {
      const response = await rawRequest(edge.port, http(`GET ${path} HTTP/1.1`, { host: "127.0.0.1", authorization: `Bearer ${edge.admin}` }));
      expect({ path, code: expectApiError(response, 400).code }).toEqual({ path, code: "invalid_path" });
    }
  });

  test("Should not log or echo the path of an unknown route - a marker and its length only", async () => {
    await using edge = await servedEdge();
    const response = await rawRequest(edge.port, http("GET /canary-path-7f3a HTTP/1.1"));
    expect(expectApiError(response, 404).message).toBe("no route for this method and path");
    expect(response.body).not.toContain("canary");
    expect(edge.logLines.join("\n")).not.toContain("canary");
  });
});
