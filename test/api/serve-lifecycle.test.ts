import { describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliActor } from "../../src/accounts/actor";
import { composeServices } from "../../src/compose/compose-services";
import { configSchema } from "../../src/config/schema";
import { createFakeEngine } from "../../src/inference/fake-engine";
import { startEnclave } from "../../src/serve/start-enclave";
import { memoryLogger } from "../support/test-app";

function testConfig(server: Record<string, unknown> = {}) {
  return configSchema.parse({
    server: { host: "127.0.0.1", port: 0, shutdown_grace_seconds: 2, ...server },
    metrics: { token: "scrape" },
    storage: { data_dir: mkdtempSync(join(tmpdir(), "enclave-serve-")) },
  });
}

function selfSignedCertificate() {
  const dir = mkdtempSync(join(tmpdir(), "enclave-tls-"));
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  const result = Bun.spawnSync(
    ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost"],
    { stderr: "pipe" },
  );
  if (result.exitCode !== 0) throw new Error(`openssl failed: ${result.stderr.toString()}`);
  return { cert, key };
}

describe("startEnclave", () => {
  test("Should speak HTTPS when [server.tls] is set - with a self-signed certificate", async () => {
    const { logger } = memoryLogger();
    const enclave = await startEnclave({ config: testConfig({ tls: selfSignedCertificate() }), logger, createEngine: async () => createFakeEngine() });
    try {
      expect(enclave.url.protocol).toBe("https:");
      const response = await fetch(new URL("/health", enclave.url), { tls: { rejectUnauthorized: false } });
      expect(response.status).toBe(200);
      const plain = await fetch(new URL("/health", enclave.url).href.replace("https:", "http:")).catch((error: Error) => error);
      expect(plain instanceof Error || plain.status >= 400).toBe(true);
    } finally {
      await enclave.stop();
    }
  });

  test("Should fail to start on a port another instance serves - EADDRINUSE, instead of sharing its connections", async () => {
    const { logger } = memoryLogger();
    const first = await startEnclave({ config: testConfig(), logger, createEngine: async () => createFakeEngine() });
    try {
      const second = startEnclave({ config: testConfig({ port: Number(first.url.port) }), logger, createEngine: async () => createFakeEngine() });
      expect(await second.then(async (enclave) => (await enclave.stop(), "started"), (error: { code?: unknown }) => error.code)).toBe("EADDRINUSE");
    } finally {
      await first.stop();
    }
  });

  test("Should warn about plain HTTP on a non-loopback address - and not on loopback", async () => {
    for (const [host, warns] of [["0.0.0.0", true], ["127.0.0.1", false]] as const) {
      const { logger, lines } = memoryLogger();
      const enclave = await startEnclave({ config: testConfig({ host }), logger, createEngine: async () => createFakeEngine() });
      await enclave.stop();
      expect(lines.some((line) => line.includes("plain HTTP"))).toBe(warns);
    }
  });

  test("Should let an in-flight request finish on stop - then close the store and the engine", async () => {
    const { logger } = memoryLogger();
    const engine = createFakeEngine({ tokenDelayMs: 30 });
    let disposed = false;
    const config = testConfig();
    const enclave = await startEnclave({
      config,
      logger,
      createEngine: async () =>
        Object.assign(engine, {
          [Symbol.asyncDispose]: async () => {
            disposed = true;
          },
        }),
    });
    await enclave.ready;
    const cli = cliActor("test");
    const { keys, accounts } = composeServices({ config, store: enclave.store, logger });
    const { secret } = await keys.create(cli, { name: "drain", account_id: (await accounts.ensureDefault(cli)).id });
    const inFlight = fetch(new URL("/v1/completions", enclave.url), {
      method: "POST",
      headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "fake", prompt: "count 1 2 3 4 5 6 7 8", max_tokens: 8 }),
    });
    await Bun.sleep(50);
    const stopping = enclave.stop();
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(((await response.json()) as any).choices[0].finish_reason).toBeDefined();
    await stopping;
    expect(disposed).toBe(true);
    expect(() => enclave.store.sqlite!.sqlite.query("select 1").get()).toThrow();
  });

  test("Should become ready once the default model loads", async () => {
    const { logger } = memoryLogger();
    const enclave = await startEnclave({
      config: testConfig(),
      logger,
      createEngine: async () => createFakeEngine({ models: [{ id: "m", loadDelayMs: 50 }] }),
    });
    try {
      expect((await fetch(new URL("/ready", enclave.url))).status).toBe(503);
      await enclave.ready;
      expect((await fetch(new URL("/ready", enclave.url))).status).toBe(200);
    } finally {
      await enclave.stop();
    }
  });

  test("Should stop within two grace periods even when the engine never finishes disposing - a wedged generation cannot keep the server alive", async () => {
    const { logger, lines } = memoryLogger();
    const engine = createFakeEngine();
    const config = testConfig({ shutdown_grace_seconds: 1 });
    const enclave = await startEnclave({
      config,
      logger,
      createEngine: async () => Object.assign(engine, { [Symbol.asyncDispose]: () => new Promise<void>(() => {}) }),
    });
    await enclave.ready;
    const started = performance.now();
    await enclave.stop();
    expect(performance.now() - started).toBeLessThan(2500);
    expect(lines.some((line) => line.includes("engine did not stop within the grace period"))).toBe(true);
    expect(() => enclave.store.sqlite!.sqlite.query("select 1").get()).toThrow();
  });
});
