import { describe, expect, test } from "bun:test";
import { guardedApp, api } from "../auth/harness";
import { canaries, filesUnder, occurrences } from "./canary-harness";

/**
 * Promise 11: metadata keeps only values Enclave itself knows. Client-supplied strings (a model
 * name the engine does not serve, a path parameter, `user`, `metadata`, headers) are metered and
 * logged as fixed markers, never verbatim.
 */
describe("client-supplied strings in metadata", () => {
  test("Should store and log no client string verbatim - unknown model, model path, unknown route, user, metadata, headers - and meter the model as 'unknown'", async () => {
    using h = await guardedApp();
    const c = canaries();
    const headers = { "user-agent": c.user, "x-client-note": c.system, "openai-organization": c.assistant };
    const send = (path: string, init: Parameters<typeof api>[2]) => h.app.handle(api(path, h.adminSecret, { ...init, headers: { ...headers, ...(init?.headers as Record<string, string>) } }));
    const chat = (extra: Record<string, unknown>) => ({ model: "fake", messages: [{ role: "user", content: "count 1 2" }], ...extra });

    const statuses = [
      (await send("/v1/chat/completions", { method: "POST", json: chat({ model: c.prompt }) })).status,
      (await send("/v1/chat/completions", { method: "POST", json: chat({ model: c.prompt, stream: true }) })).status,
      (await send("/v1/embeddings", { method: "POST", json: { model: c.embedding, input: "x" } })).status,
      (await send(`/v1/models/${c.toolArgs}`, { method: "GET" })).status,
      (await send("/v1/chat/completions", { method: "POST", json: chat({ user: c.toolResult, metadata: { note: c.jsonSchema } }) })).status,
      (await send(`/v1/${c.abort}?q=${c.engine}`, { method: "GET" })).status,
      (await send(`/admin/${c.overflow}`, { method: "POST", json: {} })).status,
    ];
    expect(statuses).toEqual([404, 404, 404, 404, 200, 404, 404]);

    const stored = filesUnder(h.dataDir);
    expect(stored.length).toBeGreaterThan(0);
    const needles = Object.values(c);
    expect(occurrences(stored, needles)).toEqual([]);
    expect(occurrences([{ path: "logs", bytes: Buffer.from(h.logLines.join("\n")) }], needles)).toEqual([]);

    // The requests were metered, with the fixed marker for the unknown models and route patterns for paths.
    const rows = h.store.sqlite.query("select model, endpoint, status from usage_events order by started_at").all() as { model: string | null; endpoint: string; status: number }[];
    expect(rows.map((row) => row.model)).toEqual(["unknown", "unknown", "unknown", null, "fake"]);
    expect(rows.map((row) => row.endpoint)).toContain("GET /v1/models/:id");
  });
});
