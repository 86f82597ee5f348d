/**
 * A served Enclave (startEnclave, the guarded routes, the real store) over the fake engine, in
 * its own process, so a test can kill it with SIGKILL. argv: data dir. Prints its URL and waits.
 */
import { configSchema } from "../../src/config/schema";
import { createFakeEngine } from "../../src/inference/fake-engine";
import { createLogger } from "../../src/logging/logger";
import { startEnclave } from "../../src/serve/start-enclave";

const config = configSchema.parse({
  server: { host: "127.0.0.1", port: 0 },
  storage: { data_dir: process.argv[2] },
  auth: { pepper: "kill-test-pepper" },
  limits: { concurrency: 16, account_concurrency: 0 },
  logging: { level: "warn" },
});
const enclave = await startEnclave({
  config,
  logger: createLogger(config),
  createEngine: async () => createFakeEngine({ models: [{ id: "fake", parallel: 16 }], tokenDelayMs: 20, naturalLength: 1000 }),
});
await enclave.ready;
console.log(enclave.url.href);
