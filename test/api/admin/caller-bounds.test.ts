import { describe, expect, test } from "bun:test";
import { api, guardedApp, type GuardedAppOptions } from "../auth/harness";

type Harness = Awaited<ReturnType<typeof guardedApp>>;

async function call(h: Harness, secret: string, method: string, path: string, json?: unknown) {
  const response = await h.app.handle(api(path, secret, { method, ...(json !== undefined && { json }) }));
  return { status: response.status, body: (await response.json()) as any };
}

/** A tenant account with a manager key whose limits and scope an admin set. */
async function tenant(options: GuardedAppOptions, account: Record<string, unknown>, manager: Record<string, unknown>) {
  const h = await guardedApp(options);
  const acme = await h.accounts.create(h.cli, { name: "acme", ...account });
  const key = await h.keys.create(h.cli, { name: "manager", role: "manager", account_id: acme.id, ...manager });
  return { h, acme, manager: key };
}

function expectExceeds(result: { status: number; body: any }, param: string) {
  expect({ status: result.status, type: result.body.error?.type, code: result.body.error?.code, param: result.body.error?.param }).toEqual({
    status: 403,
    type: "permission_error",
    code: "exceeds_caller_limit",
    param,
  });
}

describe("a manager grants no more than it holds", () => {
  test("Should refuse a twin manager key raising its creator's limits - it may only narrow them", async () => {
    const { h, manager } = await tenant({}, {}, { rpm: 60 });
    using _ = h;
    const twin = await call(h, manager.secret, "POST", "/admin/keys", { name: "twin", role: "manager" });
    expect(twin.status).toBe(201);
    expectExceeds(await call(h, twin.body.secret, "PATCH", `/admin/keys/${manager.key.id}`, { concurrency: 10000 }), "concurrency");
    expectExceeds(await call(h, twin.body.secret, "PATCH", `/admin/keys/${manager.key.id}`, { rpm: 0 }), "rpm");
    expect(await h.keys.get(h.cli, manager.key.id)).toMatchObject({ concurrency: null, rpm: 60 });
    expect((await call(h, twin.body.secret, "PATCH", `/admin/keys/${manager.key.id}`, { concurrency: 1 })).status).toBe(200);
  });

  test("Should refuse limits above the caller key's own - on create and on update", async () => {
    const { h, manager } = await tenant({}, {}, { concurrency: 2, rpm: 60, tpm: 1000, budget_period: "day", budget_tokens: 500 });
    using _ = h;
    const m = manager.secret;
    expectExceeds(await call(h, m, "POST", "/admin/keys", { name: "a", concurrency: 3 }), "concurrency");
    expectExceeds(await call(h, m, "POST", "/admin/keys", { name: "a", rpm: 0 }), "rpm");
    expectExceeds(await call(h, m, "POST", "/admin/keys", { name: "a", tpm: null }), "tpm");
    expectExceeds(await call(h, m, "POST", "/admin/keys", { name: "a", budget_tokens: 501 }), "budget_tokens");
    expectExceeds(await call(h, m, "POST", "/admin/keys", { name: "a", budget_period: null, budget_tokens: null }), "budget_tokens");
    // Omitted fields start from the caller's own; a month's budget that fits in one day is narrower.
    const made = await call(h, m, "POST", "/admin/keys", { name: "a", rpm: 30, budget_period: "month" });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ concurrency: 2, rpm: 30, tpm: 1000, budget_period: "month", budget_tokens: 500 });
    expectExceeds(await call(h, m, "PATCH", `/admin/keys/${made.body.id}`, { rpm: 61 }), "rpm");
    expectExceeds(await call(h, m, "PATCH", `/admin/keys/${made.body.id}`, { budget_period: "day", budget_tokens: 600 }), "budget_tokens");
    expect((await call(h, m, "PATCH", `/admin/keys/${made.body.id}`, { name: "renamed", rpm: 60 })).status).toBe(200);
  });

  test("Should refuse a key with wider model, IP or region scope than the caller's - unset means unrestricted, so wider", async () => {
    const { h, manager } = await tenant(
      { clientIp: () => "10.1.2.3", config: { residency: { region: "eu-1", allowed_regions: ["eu-1", "eu-2"] } } },
      {},
      { models: ["fake"], allowed_ips: ["10.0.0.0/8"], allowed_regions: ["eu-1"], expires_at: "2099-01-01T00:00:00Z" },
    );
    using _ = h;
    const m = manager.secret;
    expectExceeds(await call(h, m, "POST", "/admin/keys", { name: "a", models: null }), "models");
    expectExceeds(await call(h, m, "POST", "/admin/keys", { name: "a", models: ["fake", "other"] }), "models");
    expectExceeds(await call(h, m, "POST", "/admin/keys", { name: "a", allowed_ips: null }), "allowed_ips");
    expectExceeds(await call(h, m, "POST", "/admin/keys", { name: "a", allowed_ips: ["0.0.0.0/0"] }), "allowed_ips");
    expectExceeds(await call(h, m, "POST", "/admin/keys", { name: "a", allowed_regions: null }), "allowed_regions");
    expectExceeds(await call(h, m, "POST", "/admin/keys", { name: "a", allowed_regions: ["eu-2"] }), "allowed_regions");
    expectExceeds(await call(h, m, "POST", "/admin/keys", { name: "a", expires_at: null }), "expires_at");
    const made = await call(h, m, "POST", "/admin/keys", { name: "a", allowed_ips: ["10.1.0.0/16"] });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ models: ["fake"], allowed_ips: ["10.1.0.0/16"], allowed_regions: ["eu-1"], expires_at: "2099-01-01T00:00:00.000Z" });
    expectExceeds(await call(h, m, "PATCH", `/admin/keys/${made.body.id}`, { models: null }), "models");
    expect((await h.keys.list(h.cli)).length).toBe(3);
  });

  test("Should refuse a sub-account's limits beyond the manager's own account - unset stays bounded by it", async () => {
    const { h, manager } = await tenant({}, { concurrency: 2, budget_period: "month", budget_tokens: 1000 }, {});
    using _ = h;
    const m = manager.secret;
    expectExceeds(await call(h, m, "POST", "/admin/accounts", { name: "team", concurrency: 3 }), "concurrency");
    expectExceeds(await call(h, m, "POST", "/admin/accounts", { name: "team", budget_period: "month", budget_tokens: 1001 }), "budget_tokens");
    expectExceeds(await call(h, m, "POST", "/admin/accounts", { name: "team", budget_period: "day", budget_tokens: 1000 }), "budget_period");
    const team = await call(h, m, "POST", "/admin/accounts", { name: "team", concurrency: 2 });
    expect(team.status).toBe(201);
    expect((await call(h, m, "POST", "/admin/accounts", { name: "free" })).status).toBe(201);
    expectExceeds(await call(h, m, "PATCH", `/admin/accounts/${team.body.id}`, { concurrency: 100 }), "concurrency");
    expect((await call(h, m, "PATCH", `/admin/accounts/${team.body.id}`, { concurrency: 1, budget_period: "month", budget_tokens: 10 })).status).toBe(200);
  });

  test("Should leave admin keys unbounded - an admin grants any limit", async () => {
    const { h, acme } = await tenant({}, { concurrency: 1 }, {});
    using _ = h;
    expect((await call(h, h.adminSecret, "POST", "/admin/keys", { name: "big", account_id: acme.id, concurrency: 10000, rpm: 0 })).status).toBe(201);
    expect((await call(h, h.adminSecret, "POST", "/admin/accounts", { name: "big", parent_id: acme.id, concurrency: 10000 })).status).toBe(201);
  });
});
