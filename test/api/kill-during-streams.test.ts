import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliActor } from "../../src/accounts/actor";
import { verifyAudit } from "../../src/audit/verify-audit";
import { openStore } from "../../src/db/client";
import { migrate } from "../../src/db/migrate";
import { sqliteAccountServices } from "../support/sqlite-account-services";

const script = join(import.meta.dir, "../support/serve-fake.ts");

/** Starts the served fake in a child process; resolves with its URL once it listens. */
async function serve(dataDir: string) {
  const child = Bun.spawn([process.execPath, script, dataDir], { stdout: "pipe", stderr: "inherit" });
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the served fake exited before listening: ${text}`);
    text += new TextDecoder().decode(value);
  }
  return { child, url: text.trim() };
}

describe("kill -9 during streams", () => {
  test("Should leave the store intact, the audit chain verifying and every finished request metered - 8 streams, 3 rounds", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "enclave-kill-"));
    try {
      let secret: string;
      {
        using store = openStore(dataDir);
        migrate(store);
        const cli = cliActor("test");
        const seed = sqliteAccountServices(store.db, "kill-test-pepper");
        const account = await seed.accounts.ensureDefault(cli);
        secret = (await seed.keys.create(cli, { name: "streams", account_id: account.id })).secret;
      }
      let finished = 0;
      for (let round = 0; round < 3; round++) {
        const { child, url } = await serve(dataDir);
        const post = (body: object) =>
          fetch(new URL("/v1/chat/completions", url), {
            method: "POST",
            headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
            body: JSON.stringify({ model: "fake", messages: [{ role: "user", content: "count 1" }], ...body }),
          });
        const done = await post({ max_tokens: 3 });
        expect(done.status).toBe(200);
        await done.json();
        finished++;
        const streams = await Promise.all(Array.from({ length: 8 }, () => post({ stream: true })));
        // Every stream has started generating before the kill.
        await Promise.all(streams.map((response) => response.body!.getReader().read()));
        child.kill("SIGKILL");
        await child.exited;
      }

      using store = openStore(dataDir);
      expect(store.sqlite.query("pragma integrity_check").get()).toEqual({ integrity_check: "ok" });
      expect(verifyAudit(store.db).ok).toBe(true);
      const rows = store.sqlite.query("select status from usage_events where completion_tokens = 3").all();
      expect(rows).toHaveLength(finished);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
