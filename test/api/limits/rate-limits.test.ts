import { describe, expect, test } from "bun:test";
import { api, chatBody, guardedApp } from "../auth/harness";

const chat = (secret: string, body: Record<string, unknown> = {}) => api("/v1/chat/completions", secret, { method: "POST", json: chatBody(body) });

describe("requests and tokens per minute, budgets, credits", () => {
  test("Should allow rpm requests in a minute, then 429 with Retry-After until the oldest leaves the window", async () => {
    let now = Date.parse("2030-03-01T12:00:00Z");
    using h = await guardedApp({ now: () => now });
    const { secret } = await h.keys.create(h.cli, { name: "rpm", account_id: h.root.id, rpm: 3 });
    const remaining: (string | null)[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await h.app.handle(chat(secret));
      expect(response.status).toBe(200);
      expect(response.headers.get("x-ratelimit-limit-requests")).toBe("3");
      remaining.push(response.headers.get("x-ratelimit-remaining-requests"));
      now += 10_000;
    }
    expect(remaining).toEqual(["2", "1", "0"]);
    const limited = await h.app.handle(chat(secret));
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("30");
    expect(limited.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    expect(((await limited.json()) as any).error).toMatchObject({ type: "rate_limit_error", code: "rate_limit_requests", limit_requests: 3 });
    now += 30_000;
    expect((await h.app.handle(chat(secret))).status).toBe(200);
  });

  test("Should count a request with n choices once against rpm and every choice's tokens against tpm - one meter row", async () => {
    let now = Date.parse("2030-03-01T12:00:00Z");
    using h = await guardedApp({ now: () => now });
    const { secret } = await h.keys.create(h.cli, { name: "n", account_id: h.root.id, rpm: 2, tpm: 100 });
    const response = await h.app.handle(chat(secret, { n: 2, max_tokens: 5 }));
    expect(response.status).toBe(200);
    expect(((await response.json()) as any).usage).toEqual({ prompt_tokens: 6, completion_tokens: 10, total_tokens: 16 });
    expect(response.headers.get("x-ratelimit-remaining-requests")).toBe("1");
    const rows = h.store.sqlite.query("select prompt_tokens, completion_tokens from usage_events where endpoint = 'POST /v1/chat/completions'").all();
    expect(rows).toEqual([{ prompt_tokens: 6, completion_tokens: 10 }]);
    const next = await h.app.handle(chat(secret, { max_tokens: 1 }));
    // The header reports what was left when the request was admitted: the first request's 16 tokens, both choices'.
    expect(Number(next.headers.get("x-ratelimit-remaining-tokens"))).toBe(100 - 16);
  });

  test("Should refuse once tpm tokens were used in the last minute - and allow again when they age out", async () => {
    let now = Date.parse("2030-03-01T12:00:00Z");
    using h = await guardedApp({ now: () => now });
    // Each call: 6 prompt tokens + 16 completion tokens = 22.
    const { secret } = await h.keys.create(h.cli, { name: "tpm", account_id: h.root.id, tpm: 40 });
    const first = await h.app.handle(chat(secret));
    expect(first.headers.get("x-ratelimit-limit-tokens")).toBe("40");
    expect((await h.app.handle(chat(secret))).status).toBe(200);
    const limited = await h.app.handle(chat(secret));
    expect(limited.status).toBe(429);
    expect(limited.headers.get("x-ratelimit-remaining-tokens")).toBe("0");
    expect(Number(limited.headers.get("retry-after"))).toBe(60);
    expect(((await limited.json()) as any).error.code).toBe("rate_limit_tokens");
    now += 60_001;
    expect((await h.app.handle(chat(secret))).status).toBe(200);
  });

  test("Should send no x-ratelimit headers for a key without rpm or tpm", async () => {
    using h = await guardedApp();
    const response = await h.app.handle(chat(h.adminSecret));
    expect([...response.headers.keys()].filter((name) => name.startsWith("x-ratelimit"))).toEqual([]);
  });

  test("Should apply the [limits] rpm default to keys without their own", async () => {
    using h = await guardedApp({ config: { limits: { rpm: 1 } } });
    expect((await h.app.handle(chat(h.adminSecret))).status).toBe(200);
    expect((await h.app.handle(chat(h.adminSecret))).status).toBe(429);
  });

  test("Should refuse a key over its token budget for the month - until the month turns", async () => {
    let now = Date.parse("2030-03-31T23:00:00Z");
    using h = await guardedApp({ now: () => now });
    const { secret } = await h.keys.create(h.cli, { name: "budget", account_id: h.root.id, budget_period: "month", budget_tokens: 30 });
    expect((await h.app.handle(chat(secret))).status).toBe(200);
    expect((await h.app.handle(chat(secret))).status).toBe(200);
    const refused = await h.app.handle(chat(secret));
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("3600");
    const body = (await refused.json()) as any;
    expect(body.error).toMatchObject({ type: "rate_limit_error", code: "budget_exceeded", budget_tokens: 30, used_tokens: 44 });
    expect(body.error.message).toContain("2030-04-01T00:00:00.000Z");
    now = Date.parse("2030-04-01T00:00:01Z");
    expect((await h.app.handle(chat(secret))).status).toBe(200);
  });

  test("Should refuse an account over its cost budget for the day - priced from [pricing]", async () => {
    const now = Date.parse("2030-03-01T12:00:00Z");
    using h = await guardedApp({ now: () => now, config: { pricing: { models: [{ model: "fake", prompt_per_million: 1000, completion_per_million: 2000 }] } } });
    // One call: 6 x 1000 + 16 x 2000 = 38,000 micros = 0.038.
    const team = await h.accounts.create(h.cli, { name: "team", budget_period: "day", budget_cost: 0.05 });
    const { secret } = await h.keys.create(h.cli, { name: "app", account_id: team.id });
    expect((await h.app.handle(chat(secret))).status).toBe(200);
    expect((await h.app.handle(chat(secret))).status).toBe(200);
    const refused = await h.app.handle(chat(secret));
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as any).error).toMatchObject({ code: "budget_exceeded", budget_cost: 0.05, used_cost: 0.076 });
    const cost = h.store.sqlite.query("select sum(cost_micros) as micros from usage_events where account_id = ?").get(team.id) as { micros: number };
    expect(cost.micros).toBe(76_000);
  });

  test("Should take each request's cost from prepaid credits - and refuse with a clear message once none are left", async () => {
    using h = await guardedApp({ config: { pricing: { prompt_per_million: 1000, completion_per_million: 2000 } } });
    const team = await h.accounts.create(h.cli, { name: "prepaid" });
    await h.accounts.addCredits(h.cli, team.id, 0.05);
    const { secret } = await h.keys.create(h.cli, { name: "app", account_id: team.id });
    expect((await h.app.handle(chat(secret))).status).toBe(200);
    expect((await h.accounts.get(h.cli, team.id)).creditsMicros).toBe(50_000 - 38_000);
    expect((await h.app.handle(chat(secret))).status).toBe(200);
    const refused = await h.app.handle(chat(secret));
    expect(refused.status).toBe(429);
    const body = (await refused.json()) as any;
    expect(body.error).toMatchObject({ type: "rate_limit_error", code: "insufficient_quota" });
    expect(body.error.message).toContain("no prepaid credits left");
    expect(h.stats.started).toBe(2);
    await h.accounts.addCredits(h.cli, team.id, 1);
    expect((await h.app.handle(chat(secret))).status).toBe(200);
  });

  test("Should leave accounts without a wallet unlimited - credits are opt-in", async () => {
    using h = await guardedApp({ config: { pricing: { prompt_per_million: 1e6, completion_per_million: 1e6 } } });
    for (let i = 0; i < 3; i++) expect((await h.app.handle(chat(h.adminSecret))).status).toBe(200);
  });
});
