import { describe, expect, test } from "bun:test";
import { cliActor } from "../../../src/accounts/actor";
import { api, chatBody, guardedApp } from "./harness";

function expectOpenAiError(body: any, type: string, code?: string) {
  expect(Object.keys(body)).toEqual(["error"]);
  expect(body.error).toMatchObject({ type, ...(code && { code }) });
  expect(typeof body.error.message).toBe("string");
  expect(body.error).toHaveProperty("param");
}

describe("/v1 authentication", () => {
  test("Should answer /health and /ready without a key - they stay public", async () => {
    using h = await guardedApp();
    expect((await h.app.handle(api("/health", null))).status).toBe(200);
    expect([200, 503]).toContain((await h.app.handle(api("/ready", null))).status);
  });

  const cases: { name: string; headers: (h: Awaited<ReturnType<typeof guardedApp>>) => Record<string, string>; code: string }[] = [
    { name: "no Authorization header", headers: () => ({}), code: "missing_api_key" },
    { name: "not a bearer token", headers: (h) => ({ authorization: `Basic ${h.adminSecret}` }), code: "invalid_api_key" },
    { name: "empty bearer token", headers: () => ({ authorization: "Bearer " }), code: "invalid_api_key" },
    { name: "not shaped like a key", headers: () => ({ authorization: "Bearer sk-1234" }), code: "invalid_api_key" },
    { name: "right shape, unknown key", headers: () => ({ authorization: `Bearer enk_${"A".repeat(43)}` }), code: "invalid_api_key" },
    { name: "key with one character changed", headers: (h) => ({ authorization: `Bearer ${h.adminSecret.slice(0, -1)}${h.adminSecret.endsWith("A") ? "B" : "A"}` }), code: "invalid_api_key" },
    { name: "key in the wrong case", headers: (h) => ({ authorization: `Bearer ${h.adminSecret.slice(0, 4)}${swapCase(h.adminSecret.slice(4))}` }), code: "invalid_api_key" },
  ];
  for (const { name, headers, code } of cases)
    test(`Should not authorize - ${name}`, async () => {
      using h = await guardedApp();
      for (const path of ["/v1/models", "/v1/chat/completions"]) {
        const init = path === "/v1/models" ? {} : { method: "POST", json: chatBody() };
        const response = await h.app.handle(api(path, null, { ...init, headers: headers(h) }));
        expect(response.status).toBe(401);
        const text = await response.text();
        expectOpenAiError(JSON.parse(text), "authentication_error", code);
        expect(text).not.toContain(h.adminSecret);
      }
      expect(h.stats.started).toBe(0);
    });

  /** The answer to a key that never existed: what a revoked, expired or orphaned key must look like too. */
  async function unknownKeyAnswer(h: Awaited<ReturnType<typeof guardedApp>>) {
    const response = await h.app.handle(api("/v1/models", `enk_${"A".repeat(43)}`));
    return { status: response.status, body: await response.json() };
  }

  /** The request log's reason for the last 401: where the real cause goes instead of the answer. */
  const lastReason = (h: Awaited<ReturnType<typeof guardedApp>>) =>
    h.logLines.map((line) => JSON.parse(line)).findLast((entry) => entry.msg === "request" && entry.status === 401)?.reason;

  test("Should not authorize - the key is revoked, from the next request on, answered as an unknown key", async () => {
    using h = await guardedApp();
    const { key, secret } = await h.keys.create(h.cli, { name: "app", account_id: h.root.id });
    expect((await h.app.handle(api("/v1/models", secret))).status).toBe(200);
    await h.keys.revoke(h.cli, key.id);
    const response = await h.app.handle(api("/v1/models", secret));
    expect(response.status).toBe(401);
    const body = await response.json();
    expectOpenAiError(body, "authentication_error", "invalid_api_key");
    expect(lastReason(h)).toBe("revoked");
    expect(body).toEqual((await unknownKeyAnswer(h)).body);
    expect(lastReason(h)).toBe("invalid");
  });

  test("Should not authorize - the key has expired, answered as an unknown key", async () => {
    let now = Date.parse("2030-01-01T00:00:00Z");
    using h = await guardedApp({ now: () => now });
    const { secret } = await h.keys.create(h.cli, { name: "temp", account_id: h.root.id, expires_at: "2030-01-01T01:00:00Z" });
    expect((await h.app.handle(api("/v1/models", secret))).status).toBe(200);
    now = Date.parse("2030-01-01T01:00:00Z");
    for (const path of ["/v1/models", "/admin/keys"]) {
      const response = await h.app.handle(api(path, secret));
      expect(response.status).toBe(401);
      const body = await response.json();
      expect(body).toEqual((await unknownKeyAnswer(h)).body);
      expect(JSON.stringify(body)).not.toContain("expire");
    }
    await h.app.handle(api("/v1/models", secret));
    expect(lastReason(h)).toBe("expired");
  });

  test("Should not authorize - the key's account was deleted", async () => {
    using h = await guardedApp();
    const team = await h.accounts.create(h.cli, { name: "team" });
    const { secret } = await h.keys.create(h.cli, { name: "app", account_id: team.id });
    await h.accounts.delete(h.cli, team.id);
    const response = await h.app.handle(api("/v1/models", secret));
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual((await unknownKeyAnswer(h)).body);
  });

  test("Should authorize a user key on /v1 - and refuse it on /admin with 403", async () => {
    using h = await guardedApp();
    const { secret } = await h.keys.create(h.cli, { name: "app", account_id: h.root.id, role: "user" });
    const ok = await h.app.handle(api("/v1/chat/completions", secret, { method: "POST", json: chatBody() }));
    expect(ok.status).toBe(200);
    for (const [method, path] of [["GET", "/admin/keys"], ["POST", "/admin/keys"], ["GET", "/admin/accounts"], ["GET", "/admin/usage"]] as const) {
      const response = await h.app.handle(api(path, secret, { method, ...(method === "POST" && { json: { name: "escalate", role: "admin" } }) }));
      expect(response.status).toBe(403);
      expectOpenAiError(await response.json(), "permission_error");
    }
    expect((await h.keys.list(h.cli)).map((key) => key.name)).not.toContain("escalate");
  });

  test("Should refuse a model outside the key's scope with 403 - before the engine runs it", async () => {
    using h = await guardedApp();
    const { secret } = await h.keys.create(h.cli, { name: "scoped", account_id: h.root.id, models: ["other"] });
    const denied = await h.app.handle(api("/v1/chat/completions", secret, { method: "POST", json: chatBody({ model: "fake" }) }));
    expect(denied.status).toBe(403);
    const body = (await denied.json()) as any;
    expectOpenAiError(body, "permission_error", "model_not_allowed");
    expect(body.error.param).toBe("model");
    expect(h.stats.started).toBe(0);
    const embeddings = await h.app.handle(api("/v1/embeddings", secret, { method: "POST", json: { model: "fake", input: "hi" } }));
    expect(embeddings.status).toBe(403);
    const allowed = await h.app.handle(api("/v1/chat/completions", secret, { method: "POST", json: chatBody({ model: "other" }) }));
    expect(allowed.status).toBe(200);
  });

  test("Should list only the key's models on /v1/models - and answer 404 model_not_found for one outside its scope, as OpenAI does", async () => {
    using h = await guardedApp();
    const { secret } = await h.keys.create(h.cli, { name: "scoped", account_id: h.root.id, models: ["other"] });
    const listed = await h.app.handle(api("/v1/models", secret));
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as any).data.map((model: any) => model.id)).toEqual(["other"]);
    expect((await h.app.handle(api("/v1/models/other", secret))).status).toBe(200);
    const hidden = await h.app.handle(api("/v1/models/fake", secret));
    expect(hidden.status).toBe(404);
    expectOpenAiError((await hidden.json()) as any, "not_found_error", "model_not_found");

    const everything = await h.app.handle(api("/v1/models", h.adminSecret));
    expect(((await everything.json()) as any).data.map((model: any) => model.id)).toEqual(["fake", "other"]);
    expect((await h.app.handle(api("/v1/models/fake", h.adminSecret))).status).toBe(200);
  });

  test("Should refuse a key used from outside its IP allow-list with 403 - and accept it from inside", async () => {
    let ip = "203.0.113.7";
    using h = await guardedApp({ clientIp: () => ip });
    const { secret } = await h.keys.create(h.cli, { name: "office", account_id: h.root.id, allowed_ips: ["10.0.0.0/8", "::1"] });
    const denied = await h.app.handle(api("/v1/models", secret));
    expect(denied.status).toBe(403);
    expectOpenAiError(await denied.json(), "permission_error", "ip_not_allowed");
    ip = "10.1.2.3";
    expect((await h.app.handle(api("/v1/models", secret))).status).toBe(200);
    ip = "::ffff:10.9.9.9";
    expect((await h.app.handle(api("/v1/models", secret))).status).toBe(200);
  });

  test("Should let the CLI actor bootstrap an admin key without any key - and that key works at once", async () => {
    using h = await guardedApp();
    const { secret } = await h.keys.create(cliActor("ops"), { name: "second-admin", role: "admin", account_id: h.root.id });
    expect((await h.app.handle(api("/admin/keys", secret))).status).toBe(200);
  });
});

function swapCase(text: string): string {
  return [...text].map((char) => (char === char.toUpperCase() ? char.toLowerCase() : char.toUpperCase())).join("");
}
