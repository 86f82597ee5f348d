import { afterEach, describe, expect, test } from "bun:test";
import { withUpstreams } from "../../../src/upstreams/with-upstreams";
import { startFakeUpstream } from "../upstreams/fake-upstream";
import { api, chatBody, guardedApp } from "./harness";

type Harness = Awaited<ReturnType<typeof guardedApp>>;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const RESIDENCY = { region: "eu-1", allowed_regions: ["eu-1", "eu-2"], egress: "allow-listed" };

/**
 * The guarded app over the engine `serve` builds: the local fake engine ("fake", "other") in
 * eu-1 behind the region-aware router, with one upstream in eu-2 serving "big" when asked for.
 */
async function residentApp(options: { upstream?: boolean } = {}) {
  let upstreams: { id: string; url: string; region: string; models: string[] }[] = [];
  let received: unknown[] = [];
  if (options.upstream) {
    const upstream = startFakeUpstream();
    cleanups.push(upstream.stop);
    upstreams = [{ id: "vllm-eu2", url: upstream.url, region: "eu-2", models: ["big"] }];
    received = upstream.received;
  }
  const h = await guardedApp({
    config: { residency: RESIDENCY, upstreams },
    engine: (local, config) => withUpstreams({ config, local, credentials: new Map() }),
  });
  cleanups.push(() => h[Symbol.dispose]());
  return { h, received };
}

async function call(h: Harness, secret: string, method: string, path: string, json?: unknown) {
  const response = await h.app.handle(api(path, secret, { method, ...(json !== undefined && { json }) }));
  return { status: response.status, body: (await response.json()) as any };
}

const chat = (h: Harness, secret: string, model: string) => call(h, secret, "POST", "/v1/chat/completions", chatBody({ model }));

describe("per-key and per-account allowed_regions through the guarded /v1 API", () => {
  test("Should refuse a local model for a key whose regions leave out this installation's - 403 residency_violation naming the key's rule, local-only install", async () => {
    const { h } = await residentApp();
    const eu2 = await call(h, h.adminSecret, "POST", "/admin/keys", { name: "eu2-only", allowed_regions: ["eu-2"] });
    expect(eu2.status).toBe(201);
    expect(eu2.body.allowed_regions).toEqual(["eu-2"]);

    const refused = await chat(h, eu2.body.secret, "fake");
    expect(refused.status).toBe(403);
    expect(refused.body.error).toEqual({
      message: "model 'fake' is served only in region 'eu-1'; allowed for this API key: eu-2",
      type: "permission_error",
      param: "model",
      code: "residency_violation",
      rule: "key.allowed_regions",
    });
    const embeddings = await call(h, eu2.body.secret, "POST", "/v1/embeddings", { model: "fake", input: "x" });
    expect(embeddings.status).toBe(403);
    expect(h.stats.started).toBe(0);
    // Metered like any refusal: the row says why.
    expect(h.store.sqlite.query("select status, error_code from usage_events where key_id = ?").all(eu2.body.id)).toContainEqual({ status: 403, error_code: "residency_violation" });

    const eu1 = await call(h, h.adminSecret, "POST", "/admin/keys", { name: "eu1", allowed_regions: ["eu-1"] });
    expect((await chat(h, eu1.body.secret, "fake")).status).toBe(200);
    expect((await chat(h, h.adminSecret, "fake")).status).toBe(200);
  });

  test("Should narrow routing to the key's regions with an upstream - the eu-2 key reaches the upstream but not the eu-1 local model", async () => {
    const { h, received } = await residentApp({ upstream: true });
    const eu2 = await call(h, h.adminSecret, "POST", "/admin/keys", { name: "eu2-only", allowed_regions: ["eu-2"] });
    const upstream = await chat(h, eu2.body.secret, "big");
    expect(upstream.status).toBe(200);
    expect(upstream.body.choices[0].message.content).toBe("Hello from upstream!");
    expect(received).toHaveLength(1);

    const local = await chat(h, eu2.body.secret, "fake");
    expect(local.status).toBe(403);
    expect(local.body.error).toMatchObject({ code: "residency_violation", rule: "key.allowed_regions", message: "model 'fake' is served only in region 'eu-1'; allowed for this API key: eu-2" });

    const eu1 = await call(h, h.adminSecret, "POST", "/admin/keys", { name: "eu1-only", allowed_regions: ["eu-1"] });
    const big = await chat(h, eu1.body.secret, "big");
    expect(big.status).toBe(403);
    expect(big.body.error).toMatchObject({ code: "residency_violation", rule: "key.allowed_regions", message: "model 'big' is served only in region 'eu-2'; allowed for this API key: eu-1" });
    expect(received).toHaveLength(1);
  });

  test("Should apply the account's list to its keys, and a parent account's to the accounts below it - 403 naming account.allowed_regions", async () => {
    const { h, received } = await residentApp({ upstream: true });
    const team = await call(h, h.adminSecret, "POST", "/admin/accounts", { name: "team", allowed_regions: ["eu-1"] });
    expect(team.body.allowed_regions).toEqual(["eu-1"]);
    const sub = await call(h, h.adminSecret, "POST", "/admin/accounts", { name: "sub", parent_id: team.body.id });
    for (const accountId of [team.body.id, sub.body.id]) {
      const key = await call(h, h.adminSecret, "POST", "/admin/keys", { name: "app", account_id: accountId });
      const refused = await chat(h, key.body.secret, "big");
      expect(refused.status).toBe(403);
      expect(refused.body.error).toMatchObject({
        code: "residency_violation",
        rule: "account.allowed_regions",
        message: "model 'big' is served only in region 'eu-2'; allowed for this API key by account.allowed_regions: eu-1",
      });
      expect((await chat(h, key.body.secret, "fake")).status).toBe(200);
    }
    expect(received).toHaveLength(0);

    // Clearing the account's list lifts the narrowing at once.
    expect((await call(h, h.adminSecret, "PATCH", `/admin/accounts/${team.body.id}`, { allowed_regions: null })).body.allowed_regions).toBeNull();
    const key = await call(h, h.adminSecret, "POST", "/admin/keys", { name: "later", account_id: sub.body.id });
    expect((await chat(h, key.body.secret, "big")).status).toBe(200);
  });
});

describe("allowed_regions validation on /admin", () => {
  /** Row counts and contents of accounts and keys: a refused change must leave them untouched. */
  const snapshot = (h: Harness) => JSON.stringify([h.store.sqlite.query("select * from accounts order by rowid").all(), h.store.sqlite.query("select * from api_keys order by rowid").all()]);

  test("Should answer 400 naming the region and the list it breaks - nothing written", async () => {
    const { h } = await residentApp();
    const team = await call(h, h.adminSecret, "POST", "/admin/accounts", { name: "team", allowed_regions: ["eu-1"] });
    const child = await call(h, h.adminSecret, "POST", "/admin/accounts", { name: "child", parent_id: team.body.id, allowed_regions: ["eu-1"] });
    const key = await call(h, h.adminSecret, "POST", "/admin/keys", { name: "k", account_id: team.body.id, allowed_regions: ["eu-1"] });
    expect([team.status, child.status, key.status]).toEqual([201, 201, 201]);

    const cases: [string, string, string, unknown, RegExp][] = [
      ["a key outside [residency]", "POST", "/admin/keys", { name: "x", allowed_regions: ["us-1"] }, /region 'us-1' is not among this installation's allowed regions \(\[residency\]\) \(eu-1, eu-2\)/],
      ["a key outside its account's list", "POST", "/admin/keys", { name: "x", account_id: team.body.id, allowed_regions: ["eu-2"] }, new RegExp(`region 'eu-2' is not among the allowed regions of account '${team.body.id}' \\(eu-1\\)`)],
      ["a key update outside its account's list", "PATCH", `/admin/keys/${key.body.id}`, { allowed_regions: ["eu-1", "eu-2"] }, /region 'eu-2' is not among the allowed regions of account/],
      ["an account outside [residency]", "POST", "/admin/accounts", { name: "us", allowed_regions: ["us-1"] }, /region 'us-1' is not among this installation's allowed regions/],
      ["a sub-account outside its parent's list", "POST", "/admin/accounts", { name: "wide", parent_id: team.body.id, allowed_regions: ["eu-2"] }, new RegExp(`region 'eu-2' is not among the allowed regions of parent account '${team.body.id}'`)],
      ["an account narrowed below a sub-account's list", "PATCH", `/admin/accounts/${team.body.id}`, { allowed_regions: ["eu-2"] }, new RegExp(`sub-account '${child.body.id}' allows region 'eu-1', which this list leaves out`)],
      ["an empty list", "POST", "/admin/keys", { name: "x", allowed_regions: [] }, /invalid 'allowed_regions'/],
    ];
    for (const [name, method, path, json, message] of cases) {
      const before = snapshot(h);
      const response = await call(h, h.adminSecret, method, path, json);
      expect({ name, status: response.status }).toEqual({ name, status: 400 });
      expect(response.body.error).toMatchObject({ type: "invalid_request_error", param: "allowed_regions" });
      expect(response.body.error.message).toMatch(message);
      expect(snapshot(h)).toBe(before);
    }

    // A narrowing that would strand a key names the key.
    await call(h, h.adminSecret, "PATCH", `/admin/accounts/${child.body.id}`, { allowed_regions: null });
    const stranded = await call(h, h.adminSecret, "PATCH", `/admin/accounts/${team.body.id}`, { allowed_regions: ["eu-2"] });
    expect(stranded.status).toBe(400);
    expect(stranded.body.error.message).toContain(`key '${key.body.id}' allows region 'eu-1'`);

    // Within every list it is accepted, and audited.
    const widened = await call(h, h.adminSecret, "PATCH", `/admin/accounts/${team.body.id}`, { allowed_regions: ["eu-1", "eu-2"] });
    expect(widened.status).toBe(200);
    expect((await call(h, h.adminSecret, "PATCH", `/admin/keys/${key.body.id}`, { allowed_regions: ["eu-2"] })).body.allowed_regions).toEqual(["eu-2"]);
    const audit = h.store.sqlite.query("select details from audit_log where action = 'key.update' order by seq desc limit 1").get() as { details: string };
    expect(JSON.parse(audit.details)).toMatchObject({ allowedRegions: ["eu-2"] });
  });
});
