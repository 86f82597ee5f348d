import { describe, expect, test } from "bun:test";
import { api, chatBody, guardedApp } from "../auth/harness";

type Harness = Awaited<ReturnType<typeof guardedApp>>;

async function call(h: Harness, secret: string, method: string, path: string, json?: unknown) {
  const response = await h.app.handle(api(path, secret, { method, ...(json !== undefined && { json }) }));
  return { status: response.status, body: (await response.json()) as any };
}

/** Two customer accounts under the root, each with a manager key, a sub-account and a user key that has made one request. */
async function twoTenants() {
  const h = await guardedApp();
  const tenant = async (name: string) => {
    const account = await h.accounts.create(h.cli, { name });
    const sub = await h.accounts.create(h.cli, { name: `${name}-sub`, parent_id: account.id });
    const manager = await h.keys.create(h.cli, { name: "manager", role: "manager", account_id: account.id });
    const user = await h.keys.create(h.cli, { name: "user", account_id: sub.id });
    await h.app.handle(api("/v1/chat/completions", user.secret, { method: "POST", json: chatBody() }));
    return { account, sub, manager, user };
  };
  return { h, acme: await tenant("acme"), globex: await tenant("globex") };
}

describe("manager isolation", () => {
  test("Should list only the manager's own account tree, its keys and its usage", async () => {
    const { h, acme, globex } = await twoTenants();
    using _ = h;
    const accounts = await call(h, acme.manager.secret, "GET", "/admin/accounts");
    expect(accounts.body.data.map((account: any) => account.name).sort()).toEqual(["acme", "acme-sub"]);
    const keys = await call(h, acme.manager.secret, "GET", "/admin/keys");
    expect(keys.body.data.map((key: any) => key.id).sort()).toEqual([acme.manager.key.id, acme.user.key.id].sort());
    const usage = await call(h, acme.manager.secret, "GET", "/admin/usage?group_by=account,key");
    expect(usage.body.data).toEqual([{ account_id: acme.sub.id, key_id: acme.user.key.id, requests: 1, errors: 0, prompt_tokens: 6, completion_tokens: 16, cost: 0 }]);
    // Asking for the other tenant's usage by id finds nothing rather than leaking it.
    expect((await call(h, acme.manager.secret, "GET", `/admin/usage?account_id=${globex.sub.id}`)).body.data).toEqual([]);
    expect((await call(h, acme.manager.secret, "GET", `/admin/keys?account_id=${globex.sub.id}`)).body.data).toEqual([]);
    // The admin sees both.
    expect((await call(h, h.adminSecret, "GET", "/admin/usage?group_by=account")).body.data.length).toBe(2);
  });

  test("Should answer 404 for another tenant's keys and accounts - and change nothing", async () => {
    const { h, acme, globex } = await twoTenants();
    using _ = h;
    const m = acme.manager.secret;
    const attempts: [string, string, unknown?][] = [
      ["GET", `/admin/keys/${globex.user.key.id}`],
      ["PATCH", `/admin/keys/${globex.user.key.id}`, { rpm: 1 }],
      ["DELETE", `/admin/keys/${globex.user.key.id}`],
      ["GET", `/admin/accounts/${globex.account.id}`],
      ["PATCH", `/admin/accounts/${globex.sub.id}`, { concurrency: 1 }],
      ["DELETE", `/admin/accounts/${globex.sub.id}`],
      ["POST", "/admin/keys", { name: "implant", account_id: globex.sub.id }],
      ["POST", "/admin/accounts", { name: "implant", parent_id: globex.account.id }],
    ];
    const before = h.store.sqlite.query("select * from api_keys order by id").all();
    for (const [method, path, json] of attempts) {
      const { status, body } = await call(h, m, method, path, json);
      expect({ method, path, status }).toEqual({ method, path, status: 404 });
      expect(body.error.type).toBe("not_found_error");
    }
    expect(h.store.sqlite.query("select * from api_keys order by id").all()).toEqual(before);
    expect((await h.app.handle(api("/v1/models", globex.user.secret))).status).toBe(200);
  });

  test("Should let a manager run its own tree - but not mint admins, change itself or its own account, or add credits", async () => {
    const { h, acme } = await twoTenants();
    using _ = h;
    const m = acme.manager.secret;
    const team = await call(h, m, "POST", "/admin/accounts", { name: "acme-team" });
    expect(team.status).toBe(201);
    expect(team.body.parent_id).toBe(acme.account.id);
    expect((await call(h, m, "POST", "/admin/keys", { name: "svc", account_id: team.body.id })).status).toBe(201);
    expect((await call(h, m, "PATCH", `/admin/keys/${acme.user.key.id}`, { rpm: 60 })).status).toBe(200);
    expect((await call(h, m, "PATCH", `/admin/accounts/${acme.sub.id}`, { concurrency: 2 })).status).toBe(200);

    const denied: [string, string, unknown?][] = [
      ["POST", "/admin/keys", { name: "boss", role: "admin" }],
      ["PATCH", `/admin/keys/${acme.manager.key.id}`, { rpm: 100000 }],
      ["PATCH", `/admin/accounts/${acme.account.id}`, { concurrency: 100 }],
      ["POST", `/admin/accounts/${acme.sub.id}/credits`, { amount: 1000 }],
      ["POST", "/admin/accounts", { name: "top", parent_id: h.root.id }],
    ];
    for (const [method, path, json] of denied) {
      const { status, body } = await call(h, m, method, path, json);
      expect({ path, status: [403, 404].includes(status) }).toEqual({ path, status: true });
      expect(["permission_error", "not_found_error"]).toContain(body.error.type);
    }
    expect((await h.keys.list(h.cli)).filter((key) => key.role === "admin").length).toBe(1);
  });
});
