import Anthropic from "@anthropic-ai/sdk";
import { describe, expect, test } from "bun:test";
import { request } from "../../support/test-app";
import { api, chatBody, guardedApp } from "../auth/harness";
import { sdkClient } from "./harness";

const messagesBody = (body: Record<string, unknown> = {}) => ({ model: "fake", max_tokens: 3, messages: [{ role: "user", content: "count 1 2 3" }], ...body });
const withApiKey = (path: string, key: string | null, json: unknown, headers: Record<string, string> = {}) =>
  request(path, { method: "POST", json, headers: { ...(key != null && { "x-api-key": key }), "anthropic-version": "2023-06-01", "anthropic-beta": "some-beta-2099-01-01", ...headers } });

/** The Messages API behind the real /v1 gate, keys, limits and metering (as `enclave serve` composes them). */
describe("Messages behind the /v1 gate", () => {
  test("Should authenticate by x-api-key through the official SDK - and meter one row as POST /v1/messages", async () => {
    using h = await guardedApp();
    const client = sdkClient(h.app, h.adminSecret);
    const message = await client.messages.create(messagesBody() as Anthropic.MessageCreateParamsNonStreaming);
    expect(message.content).toEqual([{ type: "text", text: " 4 5 6", citations: null } as Anthropic.TextBlock]);
    expect(await client.messages.countTokens({ model: "fake", messages: [{ role: "user", content: "count 1 2 3" }] })).toEqual({ input_tokens: 6 });
    const rows = h.store.sqlite.query("select endpoint, model, status, prompt_tokens, completion_tokens, error_code from usage_events order by started_at").all();
    expect(rows).toEqual([
      { endpoint: "POST /v1/messages", model: "fake", status: 200, prompt_tokens: 6, completion_tokens: 3, error_code: null },
      { endpoint: "POST /v1/messages/count_tokens", model: "fake", status: 200, prompt_tokens: 0, completion_tokens: 0, error_code: null },
    ]);
  });

  test("Should accept x-api-key on the OpenAI routes too - one key scheme for every /v1 route, OpenAI's error shape kept there", async () => {
    using h = await guardedApp();
    const ok = await h.app.handle(request("/v1/chat/completions", { method: "POST", json: chatBody({ max_tokens: 1 }), headers: { "x-api-key": h.adminSecret } }));
    expect(ok.status).toBe(200);
    const refused = await h.app.handle(request("/v1/chat/completions", { method: "POST", json: chatBody(), headers: { "x-api-key": "enk_wrong" } }));
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: { type: "authentication_error", code: "invalid_api_key" } });
  });

  test.each([
    ["no key", null],
    ["a wrong key", "enk_not-a-real-key"],
  ])("Should answer %s with 401 in Anthropic's shape - raised by the gate before the handler", async (_name, key) => {
    using h = await guardedApp();
    for (const path of ["/v1/messages", "/v1/messages/count_tokens"]) {
      const response = await h.app.handle(withApiKey(path, key, messagesBody()));
      expect(response.status).toBe(401);
      const body = (await response.json()) as any;
      expect(body).toEqual({ type: "error", error: { type: "authentication_error", message: expect.any(String) }, request_id: expect.stringMatching(/^req_/) });
      expect(response.headers.get("request-id")).toBe(body.request_id);
    }
    expect(h.stats.started).toBe(0);
  });

  test("Should surface a bad key as the SDK's AuthenticationError", async () => {
    using h = await guardedApp();
    const error = await sdkClient(h.app, "enk_wrong").messages.create(messagesBody() as Anthropic.MessageCreateParamsNonStreaming).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
  });

  test("Should refuse a model outside the key's scope with 403 permission_error - the SDK's PermissionDeniedError", async () => {
    using h = await guardedApp();
    const { secret } = await h.keys.create(h.cli, { name: "scoped", account_id: h.root.id, models: ["other"] });
    const error = await sdkClient(h.app, secret).messages.create(messagesBody() as Anthropic.MessageCreateParamsNonStreaming).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect((error as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: "error", error: { type: "permission_error" } });
    const counted = await h.app.handle(withApiKey("/v1/messages/count_tokens", secret, { model: "fake", messages: [{ role: "user", content: "hi" }] }));
    expect(counted.status).toBe(403);
    expect(h.stats.started).toBe(0);
  });

  test("Should answer rpm exhaustion with 429 rate_limit_error and Retry-After - the SDK's RateLimitError, the row's error code kept", async () => {
    const now = Date.parse("2030-03-01T12:00:00Z");
    using h = await guardedApp({ now: () => now });
    const { secret } = await h.keys.create(h.cli, { name: "rpm", account_id: h.root.id, rpm: 1 });
    expect((await h.app.handle(withApiKey("/v1/messages", secret, messagesBody()))).status).toBe(200);
    const limited = await h.app.handle(withApiKey("/v1/messages", secret, messagesBody()));
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("60");
    expect(await limited.json()).toMatchObject({ type: "error", error: { type: "rate_limit_error" } });
    const error = await sdkClient(h.app, secret).messages.create(messagesBody() as Anthropic.MessageCreateParamsNonStreaming).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    const codes = h.store.sqlite.query("select status, error_code from usage_events where endpoint = 'POST /v1/messages' order by started_at").all();
    expect(codes).toEqual([
      { status: 200, error_code: null },
      { status: 429, error_code: "rate_limit_requests" },
      { status: 429, error_code: "rate_limit_requests" },
    ]);
  });

  test("Should meter a validation failure with Enclave's error code - though Anthropic's body has no code field", async () => {
    using h = await guardedApp();
    const response = await h.app.handle(withApiKey("/v1/messages", h.adminSecret, messagesBody({ max_tokens: 0 })));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error", message: expect.stringContaining("max_tokens") } });
    const rows = h.store.sqlite.query("select endpoint, status, error_code from usage_events").all();
    expect(rows).toEqual([{ endpoint: "POST /v1/messages", status: 400, error_code: "invalid_value" }]);
  });

  test("Should answer an unknown path below /v1/messages with 404 in Anthropic's shape - and /v1/other in OpenAI's", async () => {
    using h = await guardedApp();
    const anthropic = await h.app.handle(withApiKey("/v1/messages/batches", h.adminSecret, {}));
    expect(anthropic.status).toBe(404);
    expect(await anthropic.json()).toMatchObject({ type: "error", error: { type: "not_found_error" } });
    const openai = await h.app.handle(api("/v1/other", h.adminSecret, { method: "POST", json: {} }));
    expect(openai.status).toBe(404);
    expect(await openai.json()).toMatchObject({ error: { type: "not_found_error", code: "not_found" } });
  });
});
