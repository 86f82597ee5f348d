import { describe, expect, test } from "bun:test";
import { createPurgeJob } from "../../../src/privacy/purge-job";
import { createSqlitePayloadRepository } from "../../../src/store/sqlite-payload-repository";
import { api, chatBody, guardedApp } from "../auth/harness";

type Harness = Awaited<ReturnType<typeof guardedApp>>;

const DAY = 86_400_000;
const T0 = Date.parse("2026-05-01T10:00:00Z");

async function get(h: Harness, path: string) {
  const response = await h.app.handle(api(path, h.adminSecret));
  expect(response.status).toBe(200);
  return (await response.json()) as any;
}

const count = (h: Harness, table: string) => (h.store.sqlite.query(`select count(*) as n from ${table}`).get() as { n: number }).n;

/** The retention purge as the schedule runs it, at `at`, folding request rows older than one day into usage_daily. */
const purgeAt = (h: Harness, at: number) => createPurgeJob({ payloads: createSqlitePayloadRepository(h.store.db, h.store.sqlite), retention: { ...h.config.retention, metadata_detail_days: 1 }, key: null, now: () => at }).run();

describe("usage after the retention roll-up (injected clock)", () => {
  test("Should report the same totals on /admin/usage and the key listing before and after request rows are folded into daily aggregates", async () => {
    let now = T0;
    using h = await guardedApp({ now: () => now, config: { pricing: { prompt_per_million: 1000, completion_per_million: 2000 } } });
    const { key, secret } = await h.keys.create(h.cli, { name: "app", account_id: h.root.id });
    for (const model of ["fake", "fake", "other"]) expect((await h.app.handle(api("/v1/chat/completions", secret, { method: "POST", json: chatBody({ model }) }))).status).toBe(200);
    expect((await h.app.handle(api("/v1/chat/completions", secret, { method: "POST", json: chatBody({ model: "nope" }) }))).status).toBe(404);
    now = T0 + 2 * DAY;
    expect((await h.app.handle(api("/v1/chat/completions", secret, { method: "POST", json: chatBody() }))).status).toBe(200);

    const paths = [
      "/admin/usage?group_by=key,model,day",
      "/admin/usage?group_by=account",
      `/admin/usage?group_by=day&key_id=${key.id}&since=2026-05-01&until=2026-05-02`,
      `/admin/usage?group_by=model&since=2026-05-02`,
    ];
    const before = await Promise.all(paths.map((path) => get(h, path)));
    const listedBefore = (await get(h, "/admin/keys")).data.find((view: any) => view.id === key.id).usage;
    expect(listedBefore.requests).toBe(5);
    // Priced from [pricing]: 6 prompt tokens x 1000 + 16 completion tokens x 2000 per million = 0.038 a request.
    expect(before[0].data.filter((row: any) => row.key_id === key.id)).toEqual([
      { key_id: key.id, model: "fake", day: "2026-05-01", requests: 2, errors: 0, prompt_tokens: 12, completion_tokens: 32, cost: 0.076 },
      { key_id: key.id, model: "fake", day: "2026-05-03", requests: 1, errors: 0, prompt_tokens: 6, completion_tokens: 16, cost: 0.038 },
      { key_id: key.id, model: "other", day: "2026-05-01", requests: 1, errors: 0, prompt_tokens: 6, completion_tokens: 16, cost: 0.038 },
      // An unknown model is metered as the fixed marker "unknown": a client-supplied string is never stored.
      { key_id: key.id, model: "unknown", day: "2026-05-01", requests: 1, errors: 1, prompt_tokens: 0, completion_tokens: 0, cost: 0 },
    ]);
    expect(before[2].data).toEqual([{ day: "2026-05-01", requests: 4, errors: 1, prompt_tokens: 18, completion_tokens: 48, cost: 0.114 }]);
    expect(before[3].data).toEqual([{ model: "fake", requests: 1, errors: 0, prompt_tokens: 6, completion_tokens: 16, cost: 0.038 }]);

    const report = await purgeAt(h, T0 + 3 * DAY);
    expect(report.usage_rows_rolled_up).toBe(4);
    expect(count(h, "usage_events")).toBe(1);
    expect(count(h, "usage_daily")).toBeGreaterThan(0);

    const after = await Promise.all(paths.map((path) => get(h, path)));
    expect(after).toEqual(before);
    expect((await get(h, "/admin/keys")).data.find((view: any) => view.id === key.id).usage).toEqual(listedBefore);
    expect((await get(h, `/admin/keys/${key.id}`)).usage).toEqual(listedBefore);
  });

  test("Should still count rolled-up usage against a monthly budget - the roll-up does not hand the tokens back", async () => {
    let now = T0;
    using h = await guardedApp({ now: () => now });
    const { secret } = await h.keys.create(h.cli, { name: "budget", account_id: h.root.id, budget_period: "month", budget_tokens: 40 });
    const chat = () => h.app.handle(api("/v1/chat/completions", secret, { method: "POST", json: chatBody() }));
    expect((await chat()).status).toBe(200);
    expect((await chat()).status).toBe(200);
    expect((await chat()).status).toBe(429);

    now = T0 + 3 * DAY;
    purgeAt(h, now);
    expect(count(h, "usage_events")).toBe(0);
    const refused = await chat();
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as any).error.message).toContain("has used 44 of its 40 tokens for this month");
  });
});
