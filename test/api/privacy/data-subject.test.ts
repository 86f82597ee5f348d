import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { draftPairs } from "../../../src/privacy/draft-data";
import { createPayloadStore } from "../../../src/privacy/payload-store";
import { createSqlitePayloadRepository } from "../../../src/store/sqlite-payload-repository";
import { createRetentionKey } from "../../../src/privacy/retention-key";
import { api, chatBody, guardedApp } from "../auth/harness";

const keyBytes = randomBytes(32);
const retention = { payloads: "none", payload_key: keyBytes.toString("hex") };
const consentBody = (extra: Record<string, unknown> = {}) => ({
  granted_by: "Alice Example (CTO)",
  statement: "Payload logging for quality and draft-model training, 30 days, v1 of the DPA annex",
  mode: "full",
  purposes: ["quality", "draft_training"],
  retention_days: 30,
  ...extra,
});

async function call(app: { handle(r: Request): Promise<Response> }, method: string, path: string, secret: string, json?: unknown) {
  const response = await app.handle(api(path, secret, { method, ...(json !== undefined && { json }) }));
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
}

async function setUp() {
  const h = await guardedApp({ config: { retention } });
  const admin = h.adminSecret;
  const account = (await call(h.app, "POST", "/admin/accounts", admin, { name: "alice-co" })).body;
  const key = (await call(h.app, "POST", "/admin/keys", admin, { name: "alice-app", account_id: account.id })).body;
  return { h, admin, account, key };
}

describe("consent and payload retention per account", () => {
  test("Should keep payloads only for the account with a recorded consent while the global mode is none", async () => {
    const { h, admin, account, key } = await setUp();
    using _h = h;
    const other = (await call(h.app, "POST", "/admin/keys", admin, { name: "other", account_id: h.root.id })).body;
    const consent = await call(h.app, "POST", `/admin/accounts/${account.id}/consents`, admin, consentBody());
    expect(consent.status).toBe(201);
    expect(consent.body).toMatchObject({ object: "consent", account_id: account.id, mode: "full", retention_days: 30, recorded_by: expect.stringMatching(/^key:/), revoked_at: null });

    expect((await h.app.handle(api("/v1/chat/completions", key.secret, { method: "POST", json: chatBody({ messages: [{ role: "user", content: "alice asks 1 2" }] }) }))).status).toBe(200);
    expect((await h.app.handle(api("/v1/chat/completions", other.secret, { method: "POST", json: chatBody({ messages: [{ role: "user", content: "root asks 5" }] }) }))).status).toBe(200);
    const rows = h.store.sqlite.query("select account_id, key_id, consent_id, mode, basis from retained_payloads").all();
    expect(rows).toEqual([{ account_id: account.id, key_id: key.id, consent_id: consent.body.id, mode: "full", basis: "consent" }]);

    // A second consent while one is active is refused; an override may only be stricter.
    expect((await call(h.app, "POST", `/admin/accounts/${account.id}/consents`, admin, consentBody())).status).toBe(409);
    const looser = await call(h.app, "PUT", `/admin/accounts/${h.root.id}/retention`, admin, { payloads: "full" });
    expect(looser.status).toBe(400);
    expect(looser.body.error.code).toBe("override_not_stricter");
    expect((await call(h.app, "PUT", `/admin/keys/${key.id}/retention`, admin, { payloads: "anonymized" })).status).toBe(200);
    await h.app.handle(api("/v1/chat/completions", key.secret, { method: "POST", json: chatBody() }));
    expect(h.store.sqlite.query("select mode, account_id from retained_payloads order by created_at").all().at(-1)).toEqual({ mode: "anonymized", account_id: null });

    // Draft-data export sees the consented pairs, and only those.
    const payloads = createPayloadStore({ payloads: createSqlitePayloadRepository(h.store.db), key: createRetentionKey(keyBytes) });
    const pairs = await draftPairs(createSqlitePayloadRepository(h.store.db), payloads, { now: Date.now() });
    expect(pairs.length).toBe(2);
    expect(pairs[0]).toEqual({ model: "fake", messages: [{ role: "user", content: "alice asks 1 2" }], completion: expect.stringContaining(" 3 4"), finish_reason: "stop" });
    expect(JSON.stringify(pairs)).not.toContain("root asks");

    // Revoking the consent purges what was kept under it (full and anonymized rows alike).
    const revoked = await call(h.app, "DELETE", `/admin/consents/${consent.body.id}`, admin);
    expect(revoked.body).toMatchObject({ id: consent.body.id, revoked_at: expect.any(String), payloads_deleted: 2 });
    expect(h.store.sqlite.query("select count(*) as n from retained_payloads").get()).toEqual({ n: 0 });
    await h.app.handle(api("/v1/chat/completions", key.secret, { method: "POST", json: chatBody() }));
    expect(h.store.sqlite.query("select count(*) as n from retained_payloads").get()).toEqual({ n: 0 });

    const audit = await call(h.app, "GET", "/admin/audit?action=consent.&order=asc", admin);
    expect(audit.body.data.map((entry: any) => entry.action)).toEqual(["consent.record", "consent.revoke"]);
    expect(JSON.stringify(audit.body)).not.toContain("Alice Example");
  });

  test("Should refuse a consent without a payload key - payloads are only ever kept encrypted", async () => {
    using h = await guardedApp();
    const response = await call(h.app, "POST", `/admin/accounts/${h.root.id}/consents`, h.adminSecret, consentBody());
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("retention_key_missing");
  });
});

describe("data-subject rights", () => {
  test("Should export everything stored about an account, then erase it idempotently - both in the audit log", async () => {
    const { h, admin, account, key } = await setUp();
    using _h = h;
    await call(h.app, "POST", `/admin/accounts/${account.id}/consents`, admin, consentBody());
    for (const content of ["first 1", "second 2"])
      expect((await h.app.handle(api("/v1/chat/completions", key.secret, { method: "POST", json: chatBody({ messages: [{ role: "user", content }] }) }))).status).toBe(200);

    const exported = await call(h.app, "GET", `/admin/accounts/${account.id}/export`, admin);
    expect(exported.status).toBe(200);
    expect(exported.headers.get("cache-control")).toBe("no-store");
    const document = exported.body;
    expect(document).toMatchObject({ object: "account_export", account: { id: account.id, name: "alice-co" } });
    expect(document.keys.map((k: any) => k.id)).toEqual([key.id]);
    expect(JSON.stringify(document)).not.toContain(key.secret);
    expect(document.usage.requests.length).toBe(2);
    // The per-day spend budgets read is stored about the account too.
    expect(document.usage.spend.map((row: any) => row.key_id)).toEqual(document.usage.spend.map(() => key.id));
    expect(document.usage.spend.reduce((sum: number, row: any) => sum + row.tokens, 0)).toBe(document.usage.requests.reduce((sum: number, row: any) => sum + row.prompt_tokens + row.completion_tokens, 0));
    expect(document.consents[0]).toMatchObject({ granted_by: "Alice Example (CTO)", revoked_at: null });
    expect(document.payloads.map((payload: any) => payload.content.input.messages[0].content)).toEqual(["first 1", "second 2"]);
    expect(document.audit.map((entry: any) => entry.action)).toEqual(expect.arrayContaining(["account.create", "key.create", "consent.record"]));

    const erased = await call(h.app, "POST", `/admin/accounts/${account.id}/erase`, admin);
    expect(erased.body).toMatchObject({ object: "account_erasure", account_id: account.id, already_erased: false, keys_revoked: 1, payloads_deleted: 2, usage_rows_rolled_up: 2, consents_revoked: 1 });
    expect((await h.app.handle(api("/v1/chat/completions", key.secret, { method: "POST", json: chatBody() }))).status).toBe(401);
    expect(h.store.sqlite.query("select count(*) as n from retained_payloads").get()).toEqual({ n: 0 });
    expect(h.store.sqlite.query("select count(*) as n from usage_events where account_id = ?").get(account.id)).toEqual({ n: 0 });
    // Billing survives as aggregates without request ids, timings or IPs.
    expect(h.store.sqlite.query("select requests, prompt_tokens from usage_daily where account_id = ?").all(account.id)).toEqual([{ requests: 2, prompt_tokens: document.usage.requests[0].prompt_tokens + document.usage.requests[1].prompt_tokens }]);

    const again = await call(h.app, "POST", `/admin/accounts/${account.id}/erase`, admin);
    expect(again.body).toMatchObject({ already_erased: true, keys_revoked: 0, payloads_deleted: 0, usage_rows_rolled_up: 0, consents_revoked: 0 });

    const after = (await call(h.app, "GET", `/admin/accounts/${account.id}/export`, admin)).body;
    expect(after.account).toMatchObject({ name: `erased-${account.id}`, deleted_at: expect.any(String) });
    expect(after.usage.requests).toEqual([]);
    expect(after.usage.daily.length).toBe(1);
    expect(after.payloads).toEqual([]);
    expect(after.consents[0]).toMatchObject({ granted_by: "(erased)", revoked_at: expect.any(String) });
    expect(after.keys[0]).toMatchObject({ name: "erased", revoked_at: expect.any(String) });
    expect(JSON.stringify(after.account)).not.toContain("alice-co");

    const audit = await call(h.app, "GET", `/admin/audit?target=${account.id}&order=asc`, admin);
    expect(audit.body.data.map((entry: any) => entry.action)).toEqual(["account.create", "consent.record", "account.export", "account.erase", "account.erase", "account.export"]);
    const verified = await call(h.app, "GET", "/admin/audit/verify", admin);
    expect(verified.body).toMatchObject({ object: "audit_verification", ok: true, problems: [] });
  });

  test("Should not let a user key read the audit log or export accounts", async () => {
    const { h, account, key } = await setUp();
    using _h = h;
    for (const [method, path] of [
      ["GET", "/admin/audit"],
      ["GET", "/admin/audit/verify"],
      ["GET", `/admin/accounts/${account.id}/export`],
      ["POST", `/admin/accounts/${account.id}/erase`],
      ["POST", "/admin/retention/purge"],
    ] as const) {
      const response = await call(h.app, method, path, key.secret);
      expect(response.status).toBe(403);
      expect(response.body.error.type).toBe("permission_error");
    }
    expect(h.store.sqlite.query("select count(*) as n from api_keys where revoked_at is not null").get()).toEqual({ n: 0 });
  });

  test("Should run the purge from the admin API - a dry run only counts and is not audited", async () => {
    using h = await guardedApp({ config: { retention } });
    const dry = await call(h.app, "POST", "/admin/retention/purge?dry_run=true", h.adminSecret);
    expect(dry.body).toMatchObject({ object: "purge", dry_run: true, payloads_deleted: 0 });
    const real = await call(h.app, "POST", "/admin/retention/purge", h.adminSecret);
    expect(real.body).toMatchObject({ object: "purge", dry_run: false });
    const audit = (await call(h.app, "GET", "/admin/audit?action=retention.purge", h.adminSecret)).body;
    expect(audit.data.length).toBe(1);
    const summary = (await call(h.app, "GET", "/admin/retention", h.adminSecret)).body;
    expect(summary).toMatchObject({ object: "retention", payloads: "none", payload_days: 30, payload_key: { fingerprint: expect.any(String) } });
  });
});
