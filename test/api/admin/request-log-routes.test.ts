import { describe, expect, test } from "bun:test";
import { api, chatBody, guardedApp } from "../auth/harness";

type Harness = Awaited<ReturnType<typeof guardedApp>>;

async function call(h: Harness, secret: string | null, path: string) {
  const response = await h.app.handle(api(path, secret));
  return { status: response.status, text: await response.clone().text(), body: (await response.json()) as any };
}

const CANARY = "zebra-canary-7f3a";
const chat = (h: Harness, secret: string, body: Record<string, unknown> = {}) =>
  h.app.handle(api("/v1/chat/completions", secret, { method: "POST", json: chatBody({ messages: [{ role: "user", content: `${CANARY} 1 2 3` }], ...body }) }));

describe("GET /admin/requests", () => {
  test("Should list each /v1 request newest first with its metadata - and nothing of its content", async () => {
    using h = await guardedApp();
    const user = await h.keys.create(h.cli, { name: "svc", account_id: h.root.id });
    expect((await chat(h, user.secret, { max_tokens: 3 })).status).toBe(200);
    expect((await chat(h, user.secret, { model: "missing" })).status).toBe(404);

    const { status, body, text } = await call(h, h.adminSecret, "/admin/requests");
    expect(status).toBe(200);
    expect(body).toMatchObject({ object: "list", has_more: false });
    expect(body.data).toHaveLength(2);
    const ok = body.data.find((row: any) => row.status === 200);
    const failed = body.data.find((row: any) => row.status === 404);
    expect(Object.keys(ok).sort()).toEqual(
      ["account_id", "completion_tokens", "duration_ms", "endpoint", "error_code", "id", "key_id", "model", "prompt_tokens", "queue_ms", "started_at", "status", "ttft_ms"].sort(),
    );
    expect(ok).toMatchObject({ key_id: user.key.id, account_id: h.root.id, endpoint: "POST /v1/chat/completions", model: "fake", status: 200, error_code: null, prompt_tokens: 6, completion_tokens: 3 });
    expect(ok.ttft_ms).toBeGreaterThanOrEqual(0);
    expect(ok.duration_ms).toBeGreaterThanOrEqual(0);
    // An unknown model's name is the client's string: the log says "unknown".
    expect(failed).toMatchObject({ status: 404, error_code: "model_not_found", model: "unknown" });
    expect(Date.parse(body.data[0].started_at)).toBeGreaterThanOrEqual(Date.parse(body.data[1].started_at));
    expect(text).not.toContain(CANARY);
    expect(text).not.toContain("missing");
  });

  test("Should filter by status class - client errors (4xx) apart from server errors (5xx)", async () => {
    using h = await guardedApp({ fake: { fault: (request) => (request.sampling.maxTokens === 7 ? "admit" : undefined) } });
    const user = await h.keys.create(h.cli, { name: "svc", account_id: h.root.id });
    expect((await chat(h, user.secret, { max_tokens: 2 })).status).toBe(200);
    expect((await chat(h, user.secret, { model: "missing" })).status).toBe(404);
    expect((await chat(h, user.secret, { max_tokens: 7 })).status).toBe(500);

    const statuses = async (filter: string) => (await call(h, h.adminSecret, `/admin/requests?status=${filter}`)).body.data.map((row: any) => row.status);
    expect(await statuses("success")).toEqual([200]);
    expect(await statuses("client_error")).toEqual([404]);
    expect(await statuses("server_error")).toEqual([500]);
  });

  test("Should page with limit and before - no row twice, none lost", async () => {
    using h = await guardedApp();
    const user = await h.keys.create(h.cli, { name: "svc", account_id: h.root.id });
    for (let i = 0; i < 5; i++) expect((await chat(h, user.secret, { max_tokens: 1 })).status).toBe(200);

    const seen: string[] = [];
    let path = "/admin/requests?limit=2";
    for (let page = 0; page < 5; page++) {
      const { status, body } = await call(h, h.adminSecret, path);
      expect(status).toBe(200);
      seen.push(...body.data.map((row: any) => row.id));
      if (!body.has_more) break;
      path = `/admin/requests?limit=2&before=${body.data.at(-1).id}`;
    }
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
  });

  test("Should show a manager only its own account tree - another tenant's requests stay out", async () => {
    using h = await guardedApp();
    const acme = await h.accounts.create(h.cli, { name: "acme", parent_id: h.root.id });
    const manager = await h.keys.create(h.cli, { name: "acme-mgr", role: "manager", account_id: acme.id });
    const acmeUser = await h.keys.create(h.cli, { name: "acme-svc", account_id: acme.id });
    const rootUser = await h.keys.create(h.cli, { name: "svc", account_id: h.root.id });
    await chat(h, rootUser.secret, { max_tokens: 1 });
    await chat(h, acmeUser.secret, { max_tokens: 1 });

    const { body } = await call(h, manager.secret, "/admin/requests");
    expect(body.data.map((row: any) => row.key_id)).toEqual([acmeUser.key.id]);
    const filtered = await call(h, manager.secret, `/admin/requests?key_id=${rootUser.key.id}`);
    expect(filtered.body.data).toEqual([]);
  });

  const refused: [string, string, number, string | null][] = [
    ["limit above 500", "/admin/requests?limit=501", 400, "limit"],
    ["limit not a number", "/admin/requests?limit=ten", 400, "limit"],
    ["an unknown status class", "/admin/requests?status=teapot", 400, "status"],
    ["an unknown parameter", "/admin/requests?content=true", 400, "content"],
  ];
  for (const [name, path, code, param] of refused)
    test(`Should answer ${code} naming ${param} - ${name}`, async () => {
      using h = await guardedApp();
      const { status, body } = await call(h, h.adminSecret, path);
      expect(status).toBe(code);
      expect(body.error).toMatchObject({ type: "invalid_request_error", param });
    });

  test("Should not answer without an admin or manager key - 401 without one, 403 for a user key", async () => {
    using h = await guardedApp();
    const user = await h.keys.create(h.cli, { name: "svc", account_id: h.root.id });
    expect((await call(h, null, "/admin/requests")).status).toBe(401);
    const denied = await call(h, user.secret, "/admin/requests");
    expect(denied.status).toBe(403);
    expect(denied.body.error.type).toBe("permission_error");
  });
});
