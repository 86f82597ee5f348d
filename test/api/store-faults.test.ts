import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliActor } from "../../src/accounts/actor";
import { configSchema } from "../../src/config/schema";
import { STORE_PROBE_INTERVAL_MS } from "../../src/db/store-health";
import { createFakeEngine } from "../../src/inference/fake-engine";
import { startEnclave } from "../../src/serve/start-enclave";
import { memoryLogger } from "../support/test-app";

describe("a store that cannot write", () => {
  test("Should refuse new inference with 503 store_unavailable and report not ready - then serve again by itself when writes succeed", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "enclave-faults-"));
    const config = configSchema.parse({ server: { host: "127.0.0.1", port: 0, shutdown_grace_seconds: 1 }, storage: { data_dir: dataDir } });
    const { logger, lines } = memoryLogger();
    const enclave = await startEnclave({
      config,
      logger,
      createEngine: async () => createFakeEngine(),
    });
    try {
      await enclave.ready;
      const cli = cliActor("test");
      const { secret } = await enclave.services.keys.create(cli, { name: "user", account_id: (await enclave.services.accounts.ensureDefault(cli)).id });
      const chat = () =>
        fetch(new URL("/v1/chat/completions", enclave.url), {
          method: "POST",
          headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
          body: JSON.stringify({ model: "fake", messages: [{ role: "user", content: "hi" }] }),
        });
      const ready = () => fetch(new URL("/ready", enclave.url));
      const metered = () => (enclave.store.sqlite!.sqlite.query("select count(*) as n from usage_events").get() as { n: number }).n;

      expect((await chat()).status).toBe(200);
      // query_only stands in for a full or read-only disk: every write fails, reads still work.
      enclave.store.sqlite!.sqlite.exec("pragma query_only = 1");
      expect((await chat()).status).toBe(200); // already admitted when its usage row failed
      expect(lines.some((line) => line.includes("metering write failed"))).toBe(true);

      const refused = await chat();
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).toBe("5");
      expect((await refused.json()).error).toMatchObject({ code: "store_unavailable" });
      const notReady = await ready();
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toMatchObject({ status: "unavailable" });

      enclave.store.sqlite!.sqlite.exec("pragma query_only = 0");
      await Bun.sleep(STORE_PROBE_INTERVAL_MS + 50);
      expect((await ready()).status).toBe(200);
      expect((await chat()).status).toBe(200);
      expect(metered()).toBe(3); // the row kept while failing was written by the probe
    } finally {
      await enclave.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
