import { describe, expect, test } from "bun:test";
import { api, chatBody, guardedApp } from "../auth/harness";

const chat = (secret: string) => api("/v1/chat/completions", secret, { method: "POST", json: chatBody() });
const respond = (secret: string, body: Record<string, unknown> = {}) => api("/v1/responses", secret, { method: "POST", json: { model: "fake", input: "count 1 2 3", ...body } });

describe("/v1/responses under the key's limits", () => {
  test("Should share one rpm window with chat completions - then 429 with Retry-After in OpenAI's shape", async () => {
    let now = Date.parse("2030-03-01T12:00:00Z");
    using h = await guardedApp({ now: () => now });
    const { secret } = await h.keys.create(h.cli, { name: "rpm", account_id: h.root.id, rpm: 2 });
    expect((await h.app.handle(chat(secret))).status).toBe(200);
    const second = await h.app.handle(respond(secret));
    expect(second.status).toBe(200);
    expect(second.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    const limited = await h.app.handle(respond(secret));
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).not.toBeNull();
    expect(((await limited.json()) as any).error).toMatchObject({ type: "rate_limit_error", code: "rate_limit_requests" });
  });

  test("Should count a streamed response's tokens against tpm - the same limiter as chat", async () => {
    const now = Date.parse("2030-03-01T12:00:00Z");
    using h = await guardedApp({ now: () => now });
    // Each call: 6 prompt tokens + 16 completion tokens = 22.
    const { secret } = await h.keys.create(h.cli, { name: "tpm", account_id: h.root.id, tpm: 40 });
    expect((await (await h.app.handle(respond(secret, { stream: true }))).text()).length).toBeGreaterThan(0);
    expect((await h.app.handle(respond(secret))).status).toBe(200);
    const limited = await h.app.handle(respond(secret));
    expect(limited.status).toBe(429);
    expect(((await limited.json()) as any).error.code).toBe("rate_limit_tokens");
  });
});
