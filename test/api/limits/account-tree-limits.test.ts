import { describe, expect, test } from "bun:test";
import { api, chatBody, guardedApp } from "../auth/harness";

type Harness = Awaited<ReturnType<typeof guardedApp>>;

const chat = (secret: string, body: Record<string, unknown> = {}) => api("/v1/chat/completions", secret, { method: "POST", json: chatBody(body) });

async function admin(h: Harness, secret: string, method: string, path: string, json: unknown) {
  const response = await h.app.handle(api(path, secret, { method, json }));
  return { status: response.status, body: (await response.json()) as any };
}

/** A tenant account with a manager key, as an admin sets one up. */
async function tenant(h: Harness, limits: Record<string, unknown>) {
  const account = await h.accounts.create(h.cli, { name: "acme", ...limits });
  const manager = await h.keys.create(h.cli, { name: "manager", role: "manager", account_id: account.id });
  return { account, manager };
}

describe("an account's limits bound its whole subtree", () => {
  test("Should refuse a sub-account's key once the parent's token budget is spent - a manager cannot escape it with a new sub-account", async () => {
    using h = await guardedApp();
    const { account, manager } = await tenant(h, { budget_period: "month", budget_tokens: 30 });
    const own = await h.keys.create(h.cli, { name: "app", account_id: account.id });
    expect((await h.app.handle(chat(own.secret))).status).toBe(200);
    expect((await h.app.handle(chat(own.secret))).status).toBe(200);
    expect((await h.app.handle(chat(own.secret))).status).toBe(429);

    const sub = await admin(h, manager.secret, "POST", "/admin/accounts", { name: "escape" });
    expect(sub.status).toBe(201);
    const deeper = await admin(h, manager.secret, "POST", "/admin/accounts", { name: "escape-deeper", parent_id: sub.body.id });
    const key = await admin(h, manager.secret, "POST", "/admin/keys", { name: "fresh", account_id: deeper.body.id });
    expect(key.status).toBe(201);
    for (let i = 0; i < 5; i++) {
      const refused = await h.app.handle(chat(key.body.secret));
      expect(refused.status).toBe(429);
      const body = (await refused.json()) as any;
      expect(body.error).toMatchObject({ type: "rate_limit_error", code: "budget_exceeded", budget_tokens: 30, used_tokens: 44 });
      expect(body.error.message).toContain(`account '${account.id}'`);
    }
    expect(h.stats.started).toBe(2);
  });

  test("Should count a sub-account's usage against the parent's budget - the sibling is refused after it", async () => {
    using h = await guardedApp();
    const { account } = await tenant(h, { budget_period: "day", budget_tokens: 40 });
    const left = await h.accounts.create(h.cli, { name: "left", parent_id: account.id });
    const right = await h.accounts.create(h.cli, { name: "right", parent_id: account.id });
    const a = (await h.keys.create(h.cli, { name: "a", account_id: left.id })).secret;
    const b = (await h.keys.create(h.cli, { name: "b", account_id: right.id })).secret;
    expect((await h.app.handle(chat(a))).status).toBe(200);
    expect((await h.app.handle(chat(a))).status).toBe(200);
    expect((await h.app.handle(chat(b))).status).toBe(429);
  });

  test("Should refuse a sub-account's key while any account above it has no credits left", async () => {
    using h = await guardedApp();
    const { account } = await tenant(h, {});
    const sub = await h.accounts.create(h.cli, { name: "sub", parent_id: account.id });
    const { secret } = await h.keys.create(h.cli, { name: "app", account_id: sub.id });
    expect((await h.app.handle(chat(secret))).status).toBe(200);
    await h.accounts.addCredits(h.cli, account.id, 0);
    const refused = await h.app.handle(chat(secret));
    expect(refused.status).toBe(429);
    const body = (await refused.json()) as any;
    expect(body.error).toMatchObject({ code: "insufficient_quota" });
    expect(body.error.message).toContain(`account '${account.id}' (above account '${sub.id}')`);
    await h.accounts.addCredits(h.cli, account.id, 1);
    expect((await h.app.handle(chat(secret))).status).toBe(200);
  });

  test("Should run a parent's sub-accounts' keys at most its concurrency cap at once, in total - the rest wait their turn", async () => {
    using h = await guardedApp({ config: { limits: { concurrency: 3, account_concurrency: 3, queue_size: 8 } }, fake: { tokenDelayMs: 5 } });
    const { account, manager } = await tenant(h, { concurrency: 1 });
    const secrets: string[] = [];
    for (const name of ["one", "two", "three"]) {
      const sub = await admin(h, manager.secret, "POST", "/admin/accounts", { name });
      secrets.push((await admin(h, manager.secret, "POST", "/admin/keys", { name: "app", account_id: sub.body.id })).body.secret);
    }
    const statuses = await Promise.all(
      [...secrets, ...secrets].map(async (secret) => {
        const response = await h.app.handle(chat(secret, { stream: true }));
        await response.text();
        return response.status;
      }),
    );
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
    expect(h.stats.maxInFlight).toBe(1);
    expect(await h.admission.limiter.subtreeInFlight(account.id)).toBe(0);
  });

  test("Should hold a parent limit changed a moment ago on the next request - nothing is cached across requests", async () => {
    using h = await guardedApp();
    const { account } = await tenant(h, {});
    const sub = await h.accounts.create(h.cli, { name: "sub", parent_id: account.id });
    const { secret } = await h.keys.create(h.cli, { name: "app", account_id: sub.id });
    expect((await h.app.handle(chat(secret))).status).toBe(200);
    await h.accounts.update(h.cli, account.id, { budget_period: "day", budget_tokens: 10 });
    expect((await h.app.handle(chat(secret))).status).toBe(429);
  });
});
