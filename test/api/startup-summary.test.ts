import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliActor } from "../../src/accounts/actor";
import { configSchema } from "../../src/config/schema";
import { createFakeEngine } from "../../src/inference/fake-engine";
import { createLogger } from "../../src/logging/logger";
import { startEnclave } from "../../src/serve/start-enclave";

const NO_KEYS_HINT = "no keys yet: run `enclave keys create --role admin`";

async function startAndRead(dataDir: string, withKey = false) {
  const config = configSchema.parse({
    server: { host: "127.0.0.1", port: 0, shutdown_grace_seconds: 1 },
    storage: { data_dir: dataDir },
    logging: { level: "info", format: "json" },
    models: [
      { id: "chat", path: "/models/chat.gguf", default: true, context_size: 8192, parallel: 4, draft: { path: "/models/chat-draft.gguf" } },
      { id: "other", path: "/models/other.gguf", context_size: 2048, parallel: 1 },
    ],
  });
  const lines: string[] = [];
  const logger = createLogger(config, { write: (line: string) => void lines.push(line) });
  const engine = createFakeEngine({ models: [{ id: "chat", parallel: 4, speculative: "draft" }, { id: "other", parallel: 1 }] });
  const enclave = await startEnclave({ config, logger, createEngine: async () => engine });
  if (withKey) {
    const cli = cliActor("test");
    await enclave.services.keys.create(cli, { name: "admin", account_id: (await enclave.services.accounts.ensureDefault(cli)).id, role: "admin" });
  }
  await enclave.stop();
  return { url: enclave.url, records: lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe("start-up summary", () => {
  test("Should log the URLs, each configured model and the next step on a fresh store - as JSON lines", async () => {
    const dir = mkdtempSync(join(tmpdir(), "enclave-summary-"));
    try {
      const { url, records } = await startAndRead(dir);
      const listening = records.find((record) => String(record.msg).startsWith("listening on"));
      expect(listening).toMatchObject({ url: url.origin, api: `${url.origin}/v1`, health: `${url.origin}/health`, console: `${url.origin}/ui`, metrics: `${url.origin}/metrics`, tls: false });
      const models = records.filter((record) => typeof record.model === "string" && typeof record.sequences === "number");
      expect(models).toEqual([
        expect.objectContaining({ model: "chat", default: true, contextSize: 8192, sequences: 4, speculative: "draft", draft: "/models/chat-draft.gguf", msg: "model chat (default, loading now): context 8192 x 4 sequences, draft chat-draft.gguf" }),
        expect.objectContaining({ model: "other", default: false, contextSize: 2048, sequences: 1, draft: null, msg: "model other (loads on first use): context 2048 x 1 sequences, no draft" }),
      ]);
      expect(records.find((record) => record.msg === NO_KEYS_HINT)).toMatchObject({ level: "warn", keys: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("Should not give the no-keys hint once a key exists - the store is no longer fresh", async () => {
    const dir = mkdtempSync(join(tmpdir(), "enclave-summary-"));
    try {
      await startAndRead(dir, true);
      const { records } = await startAndRead(dir);
      expect(records.some((record) => record.msg === NO_KEYS_HINT)).toBe(false);
      expect(records.some((record) => String(record.msg).startsWith("listening on"))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
