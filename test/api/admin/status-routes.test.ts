import { describe, expect, test } from "bun:test";
import { createStatusRoutes } from "../../../src/api/admin/status-routes";
import { residencyReport } from "../../../src/residency/residency-report";
import { createTestApp } from "../../support/test-app";
import { api, chatBody, guardedApp } from "../auth/harness";
import { createSqliteUsageRepository } from "../../../src/store/sqlite-usage-repository";

type Harness = Awaited<ReturnType<typeof guardedApp>>;

async function call(app: Harness["app"], secret: string | null, path: string) {
  const response = await app.handle(api(path, secret));
  return { status: response.status, body: (await response.json()) as any };
}

/** /admin/status and /admin/residency over the harness's store and keys, with a residency report. */
function statusApp(h: Harness) {
  const routes = createStatusRoutes({
    usage: createSqliteUsageRepository(h.store.db),
    keys: h.keys,
    models: () => [],
    version: "test",
    startedAt: Date.now() - 5000,
    now: Date.now,
    residency: () => residencyReport(h.config),
  });
  return createTestApp({ routes: [routes] }).app;
}

describe("GET /admin/status", () => {
  test("Should report models, caller and recent traffic - counted from the metering rows", async () => {
    using h = await guardedApp();
    const user = await h.keys.create(h.cli, { name: "svc", account_id: h.root.id });
    const chat = await h.app.handle(api("/v1/chat/completions", user.secret, { method: "POST", json: chatBody() }));
    expect(chat.status).toBe(200);
    const failed = await h.app.handle(api("/v1/chat/completions", user.secret, { method: "POST", json: chatBody({ model: "missing" }) }));
    expect(failed.status).toBe(404);

    const { status, body } = await call(h.app, h.adminSecret, "/admin/status");
    expect(status).toBe(200);
    expect(body.object).toBe("status");
    expect(body.caller).toMatchObject({ role: "admin", account_id: h.root.id });
    expect(body.models.map((model: any) => model.id)).toEqual(["fake", "other"]);
    expect(body.models[0]).toMatchObject({ default: true, state: "ready", parallel: 64, busy_sequences: 0, queue_depth: 0 });
    expect(body.models[0].speculative).toHaveProperty("acceptance");
    expect(body.recent).toMatchObject({ window_seconds: 300, requests: 2, errors: 1, error_rate: 0.5, completion_tokens: 16 });
    expect(body.recent.tokens_per_second).toBeGreaterThan(0);
    expect(body.per_minute.length).toBe(30);
    expect(body.per_minute.reduce((sum: number, point: any) => sum + point.requests, 0)).toBe(2);
    expect(body.per_minute.at(-1).completion_tokens).toBe(16);
  });

  test("Should split errors into client (4xx) and server (5xx) errors - a bad request is not an outage", async () => {
    using h = await guardedApp({ fake: { fault: (request) => (request.sampling.maxTokens === 7 ? "admit" : undefined) } });
    const user = await h.keys.create(h.cli, { name: "svc", account_id: h.root.id });
    const send = (body: Record<string, unknown>) => h.app.handle(api("/v1/chat/completions", user.secret, { method: "POST", json: chatBody(body) }));
    expect((await send({ max_tokens: 1 })).status).toBe(200);
    expect((await send({ model: "missing" })).status).toBe(404);
    expect((await send({ model: "missing" })).status).toBe(404);
    expect((await send({ max_tokens: 7 })).status).toBe(500);

    const { body } = await call(h.app, h.adminSecret, "/admin/status");
    expect(body.recent).toMatchObject({ requests: 4, errors: 3, client_errors: 2, server_errors: 1, client_error_rate: 0.5, server_error_rate: 0.25 });
    const sum = (field: string) => body.per_minute.reduce((total: number, point: any) => total + point[field], 0);
    expect([sum("requests"), sum("errors"), sum("client_errors"), sum("server_errors")]).toEqual([4, 3, 2, 1]);
  });

  test("Should count only a manager's own account tree - another tenant's traffic stays out", async () => {
    using h = await guardedApp();
    const acme = await h.accounts.create(h.cli, { name: "acme", parent_id: h.root.id });
    const manager = await h.keys.create(h.cli, { name: "acme-mgr", role: "manager", account_id: acme.id });
    const rootUser = await h.keys.create(h.cli, { name: "svc", account_id: h.root.id });
    await h.app.handle(api("/v1/chat/completions", rootUser.secret, { method: "POST", json: chatBody() }));

    const { status, body } = await call(h.app, manager.secret, "/admin/status");
    expect(status).toBe(200);
    expect(body.caller).toMatchObject({ role: "manager", account_id: acme.id });
    expect(body.recent.requests).toBe(0);
    expect(body.recent.tokens_per_second).toBeNull();
  });

  test("Should not answer without an admin or manager key - 401 without one, 403 for a user key", async () => {
    using h = await guardedApp();
    const user = await h.keys.create(h.cli, { name: "svc", account_id: h.root.id });
    const missing = await call(h.app, null, "/admin/status");
    expect(missing.status).toBe(401);
    expect(missing.body.error.type).toBe("authentication_error");
    const denied = await call(h.app, user.secret, "/admin/status");
    expect(denied.status).toBe(403);
    expect(denied.body.error.type).toBe("permission_error");
  });
});

describe("GET /admin/residency", () => {
  test("Should return the residency report to an admin - and refuse a manager", async () => {
    using h = await guardedApp({ config: { residency: { region: "de-fra" } } });
    const app = statusApp(h);
    const manager = await h.keys.create(h.cli, { name: "mgr", role: "manager", account_id: h.root.id });
    const { status, body } = await call(app, h.adminSecret, "/admin/residency");
    expect(status).toBe(200);
    expect(body).toMatchObject({ region: "de-fra", egress: "deny", allowed_regions: ["de-fra"] });
    expect(body.config_hash).toBe(residencyReport(h.config).config_hash);
    const denied = await call(app, manager.secret, "/admin/residency");
    expect(denied.status).toBe(403);
    expect(denied.body.error.message).toContain("admin key");
  });

  test("Should not exist when no report is wired - 404, not an empty report", async () => {
    using h = await guardedApp();
    expect((await call(h.app, h.adminSecret, "/admin/residency")).status).toBe(404);
  });
});
