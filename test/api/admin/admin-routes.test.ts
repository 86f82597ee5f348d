import { describe, expect, test } from "bun:test";
import { api, chatBody, guardedApp } from "../auth/harness";

type Harness = Awaited<ReturnType<typeof guardedApp>>;

async function call(h: Harness, secret: string, method: string, path: string, json?: unknown) {
  const response = await h.app.handle(api(path, secret, { method, ...(json !== undefined && { json }) }));
  return { status: response.status, body: (await response.json()) as any, headers: response.headers };
}

/** Row counts of every table an admin route writes: a refused request must leave them all unchanged. */
function snapshot(h: Harness) {
  const count = (table: string) => (h.store.sqlite.query(`select count(*) as n from ${table}`).get() as { n: number }).n;
  const dump = (table: string) => h.store.sqlite.query(`select * from ${table} order by rowid`).all();
  return { accounts: count("accounts"), keys: count("api_keys"), audit: count("audit_log"), rows: JSON.stringify([dump("accounts"), dump("api_keys")]) };
}

describe("/admin accounts and keys", () => {
  test("Should create, list, get, update and revoke a key - each change in the audit log", async () => {
    using h = await guardedApp();
    const created = await call(h, h.adminSecret, "POST", "/admin/keys", { name: "svc", role: "user", models: ["fake"], rpm: 10 });
    expect(created.status).toBe(201);
    expect(created.headers.get("cache-control")).toBe("no-store");
    expect(created.body).toMatchObject({ object: "api_key", name: "svc", role: "user", account_id: h.root.id, models: ["fake"], rpm: 10, revoked_at: null });
    expect(created.body.prefix).toBe(`${created.body.secret.slice(0, 12)}…`);
    const id = created.body.id;

    await h.app.handle(api("/v1/chat/completions", created.body.secret, { method: "POST", json: chatBody() }));
    const listed = await call(h, h.adminSecret, "GET", "/admin/keys");
    expect(listed.body.data.map((key: any) => key.name)).toEqual(["root-admin", "svc"]);
    expect(listed.body.data[1].usage).toEqual({ requests: 1, prompt_tokens: 6, completion_tokens: 16, cost: 0 });
    expect(listed.body.data[1].last_used_at).not.toBeNull();

    const updated = await call(h, h.adminSecret, "PATCH", `/admin/keys/${id}`, { rpm: null, tpm: 500, models: null, budget_period: "day", budget_tokens: 1000 });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ rpm: null, tpm: 500, models: null, budget_period: "day", budget_tokens: 1000 });
    expect((await call(h, h.adminSecret, "GET", `/admin/keys/${id}`)).body.tpm).toBe(500);

    const revoked = await call(h, h.adminSecret, "DELETE", `/admin/keys/${id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revoked_at).not.toBeNull();
    expect((await call(h, h.adminSecret, "GET", "/admin/keys")).body.data.map((key: any) => key.id)).not.toContain(id);
    expect((await call(h, h.adminSecret, "GET", "/admin/keys?include_revoked=true")).body.data.map((key: any) => key.id)).toContain(id);

    const audit = h.store.sqlite.query("select actor, action, target, details from audit_log order by seq").all() as any[];
    const adminKeyId = listed.body.data[0].id;
    expect(audit.slice(-3).map((row) => [row.actor, row.action, row.target])).toEqual([
      [`key:${adminKeyId}`, "key.create", id],
      [`key:${adminKeyId}`, "key.update", id],
      [`key:${adminKeyId}`, "key.revoke", id],
    ]);
    expect(audit.map((row) => row.details).join("\n")).not.toContain(created.body.secret);
  });

  test("Should create, list, update, top up and delete an account - deleting revokes its keys", async () => {
    using h = await guardedApp();
    const created = await call(h, h.adminSecret, "POST", "/admin/accounts", { name: "acme", concurrency: 5 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ object: "account", name: "acme", parent_id: h.root.id, concurrency: 5, credits: null });
    const id = created.body.id;
    const key = await call(h, h.adminSecret, "POST", "/admin/keys", { name: "acme-app", account_id: id });
    expect(key.status).toBe(201);
    expect((await call(h, h.adminSecret, "PATCH", `/admin/accounts/${id}`, { name: "acme-corp", budget_period: "month", budget_cost: 12.5 })).body).toMatchObject({
      name: "acme-corp",
      budget_cost: 12.5,
    });
    expect((await call(h, h.adminSecret, "POST", `/admin/accounts/${id}/credits`, { amount: 20 })).body.credits).toBe(20);
    expect((await call(h, h.adminSecret, "POST", `/admin/accounts/${id}/credits`, { amount: 2.5 })).body.credits).toBe(22.5);
    expect((await call(h, h.adminSecret, "GET", "/admin/accounts")).body.data.map((account: any) => account.name)).toEqual(["default", "acme-corp"]);
    const deleted = await call(h, h.adminSecret, "DELETE", `/admin/accounts/${id}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body.deleted_at).not.toBeNull();
    expect((await call(h, h.adminSecret, "GET", `/admin/accounts/${id}`)).status).toBe(404);
    expect((await h.app.handle(api("/v1/models", key.body.secret))).status).toBe(401);
    // The name is free again.
    expect((await call(h, h.adminSecret, "POST", "/admin/accounts", { name: "acme-corp" })).status).toBe(201);
  });

  type BadCase = { name: string; method: string; path: (ids: { key: string; account: string }) => string; json?: unknown; status: number; param?: string | null; message?: RegExp };
  const bad: BadCase[] = [
    { name: "key name of the wrong type", method: "POST", path: () => "/admin/keys", json: { name: 7 }, status: 400, param: "name" },
    { name: "key without a name", method: "POST", path: () => "/admin/keys", json: {}, status: 400, param: "name" },
    { name: "key with an unknown field", method: "POST", path: () => "/admin/keys", json: { name: "x", bogus: true }, status: 400, param: "bogus", message: /unknown field 'bogus'/ },
    { name: "key with an unknown role", method: "POST", path: () => "/admin/keys", json: { name: "x", role: "root" }, status: 400, param: "role" },
    { name: "key with a negative rpm", method: "POST", path: () => "/admin/keys", json: { name: "x", rpm: -1 }, status: 400, param: "rpm" },
    { name: "key with a fractional concurrency", method: "POST", path: () => "/admin/keys", json: { name: "x", concurrency: 1.5 }, status: 400, param: "concurrency" },
    { name: "key with an empty model list", method: "POST", path: () => "/admin/keys", json: { name: "x", models: [] }, status: 400, param: "models" },
    { name: "key with a bad IP range", method: "POST", path: () => "/admin/keys", json: { name: "x", allowed_ips: ["10.0.0.0/33"] }, status: 400, param: "allowed_ips[0]" },
    { name: "key with a malformed expiry", method: "POST", path: () => "/admin/keys", json: { name: "x", expires_at: "tomorrow" }, status: 400, param: "expires_at" },
    { name: "key expiring in the past", method: "POST", path: () => "/admin/keys", json: { name: "x", expires_at: "2001-01-01T00:00:00Z" }, status: 400, param: "expires_at", message: /not in the future/ },
    { name: "key with a budget but no period", method: "POST", path: () => "/admin/keys", json: { name: "x", budget_tokens: 5 }, status: 400, param: "budget_period" },
    { name: "key in an unknown account", method: "POST", path: () => "/admin/keys", json: { name: "x", account_id: "acct_nope" }, status: 404, message: /no account 'acct_nope'/ },
    { name: "duplicate key name in the account", method: "POST", path: () => "/admin/keys", json: { name: "existing" }, status: 409, param: "name", message: /already has a live key named 'existing'/ },
    { name: "body that is not an object", method: "POST", path: () => "/admin/keys", json: ["name"], status: 400, message: /JSON object/ },
    { name: "update of an unknown key", method: "PATCH", path: () => "/admin/keys/key_nope", json: { rpm: 1 }, status: 404, message: /no key 'key_nope'/ },
    { name: "update with a wrong type", method: "PATCH", path: ({ key }) => `/admin/keys/${key}`, json: { tpm: "lots" }, status: 400, param: "tpm" },
    { name: "update renaming to a taken name", method: "PATCH", path: ({ key }) => `/admin/keys/${key}`, json: { name: "root-admin" }, status: 409, param: "name" },
    { name: "update that clears the period under a budget", method: "PATCH", path: ({ key }) => `/admin/keys/${key}`, json: { budget_period: null }, status: 400, param: "budget_period" },
    { name: "revoke of an unknown key", method: "DELETE", path: () => "/admin/keys/key_nope", status: 404 },
    { name: "get of an unknown key", method: "GET", path: () => "/admin/keys/key_nope", status: 404 },
    { name: "key listing with an unknown parameter", method: "GET", path: () => "/admin/keys?colour=red", status: 400, param: "colour" },
    { name: "account name with a slash", method: "POST", path: () => "/admin/accounts", json: { name: "a/b" }, status: 400, param: "name" },
    { name: "duplicate account name", method: "POST", path: () => "/admin/accounts", json: { name: "taken" }, status: 409, param: "name" },
    { name: "account under an unknown parent", method: "POST", path: () => "/admin/accounts", json: { name: "x", parent_id: "acct_nope" }, status: 404 },
    { name: "account with zero concurrency", method: "POST", path: () => "/admin/accounts", json: { name: "x", concurrency: 0 }, status: 400, param: "concurrency" },
    { name: "account update of an unknown id", method: "PATCH", path: () => "/admin/accounts/acct_nope", json: { name: "y" }, status: 404 },
    { name: "account update with a negative cost budget", method: "PATCH", path: ({ account }) => `/admin/accounts/${account}`, json: { budget_period: "day", budget_cost: -1 }, status: 400, param: "budget_cost" },
    { name: "delete of an account with sub-accounts", method: "DELETE", path: ({ account }) => `/admin/accounts/${account}`, status: 409, message: /sub-accounts/ },
    { name: "delete of the caller's own account", method: "DELETE", path: () => "/admin/accounts/ROOT", status: 409 },
    { name: "credits of a negative amount", method: "POST", path: ({ account }) => `/admin/accounts/${account}/credits`, json: { amount: -5 }, status: 400, param: "amount" },
    { name: "credits as a string", method: "POST", path: ({ account }) => `/admin/accounts/${account}/credits`, json: { amount: "5" }, status: 400, param: "amount" },
    { name: "credits for an unknown account", method: "POST", path: () => "/admin/accounts/acct_nope/credits", json: { amount: 5 }, status: 404 },
    { name: "usage grouped by an unknown dimension", method: "GET", path: () => "/admin/usage?group_by=colour", status: 400, param: "group_by" },
    { name: "usage since a malformed date", method: "GET", path: () => "/admin/usage?since=yesterday", status: 400, param: "since" },
  ];
  for (const c of bad)
    test(`Should refuse a ${c.name} with ${c.status} and a clear message - and write nothing`, async () => {
      using h = await guardedApp();
      const parent = await call(h, h.adminSecret, "POST", "/admin/accounts", { name: "taken" });
      await call(h, h.adminSecret, "POST", "/admin/accounts", { name: "child", parent_id: parent.body.id });
      const key = await call(h, h.adminSecret, "POST", "/admin/keys", { name: "existing", budget_period: "day", budget_tokens: 10 });
      const before = snapshot(h);
      const path = c.path({ key: key.body.id, account: parent.body.id }).replace("ROOT", h.root.id);
      const { status, body } = await call(h, h.adminSecret, c.method, path, c.json);
      expect(status).toBe(c.status);
      expect(Object.keys(body)).toEqual(["error"]);
      expect(body.error.message.length).toBeGreaterThan(5);
      if (c.param !== undefined) expect(body.error.param).toBe(c.param);
      if (c.message) expect(body.error.message).toMatch(c.message);
      expect(snapshot(h)).toEqual(before);
    });

  test("Should answer malformed JSON on an admin route with 400 - and write nothing", async () => {
    using h = await guardedApp();
    const before = snapshot(h);
    const response = await h.app.handle(api("/admin/keys", h.adminSecret, { method: "POST", headers: { "content-type": "application/json" }, body: '{"name": "x"' }));
    expect(response.status).toBe(400);
    expect(snapshot(h)).toEqual(before);
  });

  test("Should refuse every admin route without a key - 401, nothing written", async () => {
    using h = await guardedApp();
    const before = snapshot(h);
    for (const [method, path] of [["GET", "/admin/keys"], ["POST", "/admin/keys"], ["GET", "/admin/accounts"], ["POST", "/admin/accounts"], ["GET", "/admin/usage"], ["DELETE", `/admin/accounts/${h.root.id}`]]) {
      const response = await h.app.handle(api(path!, null, { method, ...(method === "POST" && { json: { name: "x" } }) }));
      expect(response.status).toBe(401);
    }
    expect(snapshot(h)).toEqual(before);
  });
});
