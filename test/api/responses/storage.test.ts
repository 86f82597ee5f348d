import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { api, guardedApp } from "../auth/harness";

const respond = (secret: string, body: Record<string, unknown> = {}) => api("/v1/responses", secret, { method: "POST", json: { model: "fake", input: "count 1 2 3", ...body } });

/** What the storage paths answer, by the caller's retention: nothing is ever stored as a response. */
async function storagePaths(h: Awaited<ReturnType<typeof guardedApp>>) {
  const created = await (await h.app.handle(respond(h.adminSecret, { store: true }))).json();
  const chained = await h.app.handle(respond(h.adminSecret, { previous_response_id: created.id }));
  const fetched = await h.app.handle(api(`/v1/responses/${created.id}`, h.adminSecret));
  const deleted = await h.app.handle(api(`/v1/responses/${created.id}`, h.adminSecret, { method: "DELETE" }));
  const items = await h.app.handle(api(`/v1/responses/${created.id}/input_items`, h.adminSecret));
  return {
    store: created.store,
    statuses: [chained.status, fetched.status, deleted.status, items.status],
    messages: await Promise.all([chained, fetched, deleted, items].map(async (r) => ((await r.json()) as any).error.message as string)),
    rows: h.store.sqlite.query("select endpoint, status from usage_events where endpoint like '%/v1/responses%' order by started_at").all(),
  };
}

describe("response storage follows the retention policy", () => {
  test("Should answer store: true with store false, then 400/404 saying storage is off - zero data retention", async () => {
    using h = await guardedApp();
    const s = await storagePaths(h);
    expect(s.store).toBe(false);
    expect(s.statuses).toEqual([400, 404, 404, 404]);
    for (const message of s.messages) expect(message).toContain("storage is off by the retention policy (zero data retention)");
    // Every path is metered under its route pattern, never the id the client sent.
    expect(s.rows).toEqual([
      { endpoint: "POST /v1/responses", status: 200 },
      { endpoint: "POST /v1/responses", status: 400 },
      { endpoint: "GET /v1/responses/:id", status: 404 },
      { endpoint: "DELETE /v1/responses/:id", status: 404 },
      { endpoint: "GET /v1/responses/:id/input_items", status: 404 },
    ]);
  });

  test("Should store nothing where payloads are kept anonymized - no account to scope a response to", async () => {
    using h = await guardedApp({ config: { retention: { payloads: "anonymized", payload_key: randomBytes(32).toString("hex") } } });
    const s = await storagePaths(h);
    expect(s.store).toBe(false);
    expect(s.statuses).toEqual([400, 404, 404, 404]);
    for (const message of s.messages) {
      expect(message).toContain("anonymized");
      expect(message).not.toContain("zero data retention");
    }
    expect((h.store.sqlite.query("select count(*) as n from retained_payloads where kind = 'response'").get() as { n: number }).n).toBe(0);
  });
});
