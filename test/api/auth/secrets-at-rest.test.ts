import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { api, chatBody, guardedApp } from "./harness";

/** Every byte under the data dir (enclave.sqlite, -wal, -shm, anything else) as one latin1 string. */
function everythingStored(dataDir: string): { files: string[]; text: string } {
  const files = readdirSync(dataDir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
  return { files, text: files.map((file) => readFileSync(file).toString("latin1")).join("\n") };
}

describe("secrets and content at rest", () => {
  test("Should store keys only as hashes - no secret in the data dir (WAL included) or the logs", async () => {
    using h = await guardedApp({ config: { auth: { pepper: "test-pepper" } } });
    const secrets = [h.adminSecret];
    for (let i = 0; i < 3; i++) secrets.push((await h.keys.create(h.cli, { name: `cli-${i}`, account_id: h.root.id })).secret);
    for (let i = 0; i < 3; i++) {
      const response = await h.app.handle(api("/admin/keys", h.adminSecret, { method: "POST", json: { name: `api-${i}` } }));
      expect(response.status).toBe(201);
      const created = (await response.json()) as { secret: string; prefix: string };
      expect(created.secret).toMatch(/^enk_[0-9A-Za-z]{43}$/);
      secrets.push(created.secret);
    }
    // Use every key, so last-used updates and metering rows are written too; then a bad one.
    for (const secret of secrets) expect((await h.app.handle(api("/v1/chat/completions", secret, { method: "POST", json: chatBody() }))).status).toBe(200);
    await h.app.handle(api("/v1/models", `${secrets[1]!.slice(0, -2)}zz`));

    const { files, text } = everythingStored(h.dataDir);
    expect(files.some((file) => file.endsWith("-wal"))).toBe(true);
    for (const secret of secrets) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(secret.slice(4)); // the random part alone
      expect(h.logLines.join("\n")).not.toContain(secret.slice(12));
    }
    // What is stored: the peppered hash and the non-secret 8-character lookup.
    const rows = h.store.sqlite.query("select lookup, key_hash from api_keys").all() as { lookup: string; key_hash: string }[];
    expect(rows.length).toBe(secrets.length);
    for (const row of rows) expect(row.key_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  test("Should show the secret once - listings and reads of the key never contain it", async () => {
    using h = await guardedApp();
    const created = (await (await h.app.handle(api("/admin/keys", h.adminSecret, { method: "POST", json: { name: "once" } }))).json()) as { id: string; secret: string };
    for (const path of ["/admin/keys", `/admin/keys/${created.id}`, "/admin/keys?include_revoked=true"]) {
      const text = await (await h.app.handle(api(path, h.adminSecret))).text();
      expect(text).toContain(created.id);
      expect(text).not.toContain(created.secret);
      expect(text).not.toContain("secret");
    }
  });

  test("Should write one metering row per request with metadata only - no prompt or completion anywhere in the data dir", async () => {
    using h = await guardedApp();
    const prompt = "zebra-marker-prompt 41";
    const chat = await h.app.handle(api("/v1/chat/completions", h.adminSecret, { method: "POST", json: chatBody({ messages: [{ role: "user", content: prompt }] }) }));
    const completion = ((await chat.json()) as any).choices[0].message.content as string;
    expect(completion).toContain(" 42 43 44");
    const stream = await h.app.handle(api("/v1/completions", h.adminSecret, { method: "POST", json: { model: "fake", prompt, stream: true } }));
    await stream.text();
    await h.app.handle(api("/v1/embeddings", h.adminSecret, { method: "POST", json: { model: "fake", input: prompt } }));
    await h.app.handle(api("/v1/chat/completions", h.adminSecret, { method: "POST", json: chatBody({ model: "missing", messages: [{ role: "user", content: prompt }] }) }));

    const rows = h.store.sqlite.query("select * from usage_events order by started_at").all() as Record<string, unknown>[];
    expect(rows.map((row) => [row.endpoint, row.status, row.error_code])).toEqual([
      ["POST /v1/chat/completions", 200, null],
      ["POST /v1/completions", 200, null],
      ["POST /v1/embeddings", 200, null],
      ["POST /v1/chat/completions", 404, "model_not_found"],
    ]);
    expect(rows[0]).toMatchObject({ model: "fake", prompt_tokens: 4, completion_tokens: 16 });
    expect(rows[1]).toMatchObject({ model: "fake", prompt_tokens: 2, completion_tokens: 16 });
    expect(rows[2]).toMatchObject({ model: "fake", prompt_tokens: 2, completion_tokens: 0 });
    for (const row of rows.slice(0, 3)) expect(row.ttft_ms).not.toBeNull();
    expect(new Set(rows.map((row) => row.id)).size).toBe(4);
    expect(Object.keys(rows[0]!).sort()).toEqual(
      ["id", "key_id", "account_id", "endpoint", "model", "started_at", "queue_ms", "ttft_ms", "duration_ms", "prompt_tokens", "cached_tokens", "completion_tokens", "draft_tokens_accepted", "cost_micros", "status", "error_code", "client_ip"].sort(),
    );

    const { text } = everythingStored(h.dataDir);
    expect(text).not.toContain("zebra-marker");
    expect(text).not.toContain(completion.trim());
    expect(h.logLines.join("\n")).not.toContain("zebra-marker");
  });
});
