import { describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { cliActor } from "../../../src/accounts/actor";
import { configSchema } from "../../../src/config/schema";
import { createFakeEngine } from "../../../src/inference/fake-engine";
import { startEnclave } from "../../../src/serve/start-enclave";
import { memoryLogger } from "../../support/test-app";
import { sqliteAccountServices } from "../../support/sqlite-account-services";

describe("the served app (startEnclave, as `enclave serve` wires it)", () => {
  test("Should require a key on every /v1 route and on /admin - and work with the official OpenAI SDK given one", async () => {
    const config = configSchema.parse({
      server: { host: "127.0.0.1", port: 0, shutdown_grace_seconds: 1 },
      storage: { data_dir: mkdtempSync(join(tmpdir(), "enclave-served-")) },
      limits: { rpm: 100 },
    });
    const { logger } = memoryLogger();
    const enclave = await startEnclave({
      config,
      logger,
      createEngine: async () => createFakeEngine({ models: [{ id: "fake" }] }),
    });
    try {
      await enclave.ready;
      const url = (path: string) => new URL(path, enclave.url);
      expect((await fetch(url("/health"))).status).toBe(200);
      expect((await fetch(url("/ready"))).status).toBe(200);
      for (const [method, path] of [["GET", "/v1/models"], ["GET", "/v1/models/fake"], ["POST", "/v1/chat/completions"], ["POST", "/v1/completions"], ["POST", "/v1/embeddings"], ["GET", "/admin/keys"]]) {
        const response = await fetch(url(path!), { method, ...(method === "POST" && { body: "{}", headers: { "content-type": "application/json" } }) });
        expect({ path, status: response.status }).toEqual({ path, status: 401 });
        expect(((await response.json()) as any).error.type).toBe("authentication_error");
      }

      // The bootstrap path: the CLI's services on the same store, no key needed.
      const cli = cliActor("ops");
      const seed = sqliteAccountServices(enclave.store.sqlite!.db, config.auth.pepper);
      const account = await seed.accounts.ensureDefault(cli);
      const { secret } = await seed.keys.create(cli, { name: "sdk", account_id: account.id });

      const client = new OpenAI({ apiKey: secret, baseURL: url("/v1").href, maxRetries: 0 });
      const completion = await client.chat.completions.create({ model: "fake", messages: [{ role: "user", content: "count 1 2 3" }], max_tokens: 3 });
      expect(completion.choices[0]?.message.content).toBe(" 4 5 6");
      const { data, response } = await client.chat.completions.create({ model: "fake", messages: [{ role: "user", content: "count 7" }], max_tokens: 2, stream: true }).withResponse();
      expect(response.headers.get("x-ratelimit-limit-requests")).toBe("100");
      expect(response.headers.get("x-ratelimit-remaining-requests")).toBe("98");
      let text = "";
      for await (const chunk of data) text += chunk.choices[0]?.delta.content ?? "";
      expect(text).toBe(" 8 9");

      const wrong = new OpenAI({ apiKey: "enk_wrong", baseURL: url("/v1").href, maxRetries: 0 });
      const error = await wrong.models.list().catch((e) => e);
      expect(error).toBeInstanceOf(OpenAI.AuthenticationError);

      const rows = enclave.store.sqlite!.sqlite.query("select status, client_ip from usage_events").all() as { status: number; client_ip: string }[];
      expect(rows.length).toBe(2);
      for (const row of rows) expect(row.client_ip).toMatch(/127\.0\.0\.1|::1/);
    } finally {
      await enclave.stop();
    }
  });
});
