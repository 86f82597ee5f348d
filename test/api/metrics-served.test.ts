import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliActor } from "../../src/accounts/actor";
import { configSchema } from "../../src/config/schema";
import { createFakeEngine } from "../../src/inference/fake-engine";
import { appendAudit } from "../../src/audit/append-audit";
import { openStore } from "../../src/db/client";
import { migrate } from "../../src/db/migrate";
import { createMetrics } from "../../src/metrics/metrics-registry";
import { startEnclave } from "../../src/serve/start-enclave";
import { memoryLogger } from "../support/test-app";
import { parseExposition, valueOf } from "../unit/metrics/exposition";

describe("served metrics", () => {
  test("Should serve /metrics over HTTP from startEnclave - with the default model's load time and a request log line", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "enclave-metrics-served-"));
    const config = configSchema.parse({ server: { host: "127.0.0.1", port: 0, shutdown_grace_seconds: 1 }, storage: { data_dir: dataDir } });
    const { logger, lines } = memoryLogger("info");
    const metrics = createMetrics({ config, version: "served" });
    const enclave = await startEnclave({ config, logger, metrics, createEngine: async () => createFakeEngine({ models: [{ id: "fake", loadDelayMs: 20 }] }) });
    try {
      await enclave.ready;
      expect((await fetch(new URL("/health", enclave.url))).status).toBe(200);
      const response = await fetch(new URL("/metrics", enclave.url));
      expect(response.status).toBe(200);
      const { samples } = parseExposition(await response.text());
      expect(valueOf(samples, "enclave_http_requests_total", { route: "/health", status: "200" })).toBe(1);
      expect(valueOf(samples, "enclave_model_load_seconds", { model: "fake" })).toBeGreaterThanOrEqual(0.015);
      expect(valueOf(samples, "enclave_build_info", { version: "served" })).toBe(1);
      // The served store feeds the audit chain length: one entry more after an audited action.
      const before = valueOf(samples, "enclave_audit_chain_length")!;
      expect(before).toBeGreaterThanOrEqual(0);
      enclave.services.accounts.create(cliActor("metrics-test"), { name: "audited" });
      const after = parseExposition(await (await fetch(new URL("/metrics", enclave.url))).text()).samples;
      expect(valueOf(after, "enclave_audit_chain_length")).toBe(before + 1);
      expect(lines.map((line) => JSON.parse(line)).filter((line) => line.msg === "request" && line.route === "/health")).toHaveLength(1);
    } finally {
      await enclave.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test("Should count the retention purges the server runs - the one at start-up and one on demand, with the rows they removed", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "enclave-metrics-purge-"));
    // Two audit entries past audit_days, for the start-up purge to remove behind a checkpoint.
    const seeded = openStore(dataDir);
    migrate(seeded);
    seeded.db.transaction((tx) => {
      for (const target of ["a", "b"]) appendAudit(tx, { actor: "test", action: "seed", target, details: {} }, new Date("2020-01-01T00:00:00Z"));
    });
    seeded[Symbol.dispose]();
    const config = configSchema.parse({ server: { host: "127.0.0.1", port: 0, shutdown_grace_seconds: 1 }, storage: { data_dir: dataDir }, retention: { audit_days: 30 } });
    const { logger } = memoryLogger("silent");
    const metrics = createMetrics({ config, version: "served" });
    const enclave = await startEnclave({ config, logger, metrics, createEngine: async () => createFakeEngine() });
    const scrape = async () => parseExposition(await (await fetch(new URL("/metrics", enclave.url))).text()).samples;
    try {
      await enclave.ready;
      for (let tries = 0; tries < 100 && valueOf(await scrape(), "enclave_retention_purge_runs_total") === 0; tries++) await Bun.sleep(10);
      let samples = await scrape();
      expect(valueOf(samples, "enclave_retention_purge_runs_total")).toBe(1);
      expect(valueOf(samples, "enclave_retention_rows_purged_total")).toBe(2);
      await enclave.services.privacy.purge.run({ dryRun: true });
      await enclave.services.privacy.purge.run({ actor: "metrics-test" });
      samples = await scrape();
      expect(valueOf(samples, "enclave_retention_purge_runs_total")).toBe(2);
      expect(valueOf(samples, "enclave_retention_rows_purged_total")).toBe(2);
    } finally {
      await enclave.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
