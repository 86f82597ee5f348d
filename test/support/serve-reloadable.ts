/**
 * `enclave serve`'s wiring (startEnclave over the serve engine stack, SIGHUP reload) with a fake
 * engine per model, in its own process, so a test can signal it. argv: config file. Prints its
 * URL, then log lines (JSON) as they come.
 */
import { loadConfig } from "../../src/config/load";
import { createFakeEngine } from "../../src/inference/fake-engine";
import { createLogger } from "../../src/logging/logger";
import { reloadOnSignal } from "../../src/serve/reload-on-signal";
import { createServeEngine } from "../../src/serve/serve-engine";
import { startEnclave } from "../../src/serve/start-enclave";

const { config, file } = loadConfig({ path: process.argv[2] });
const logger = createLogger(config);
const stack = createServeEngine({
  config,
  logger,
  createModelEngine: (model) => createFakeEngine({ models: [{ id: model.id, parallel: 8 }], tokenDelayMs: 25, naturalLength: 1000 }),
});
const enclave = await startEnclave({ config, logger, configFile: file, createEngine: async () => stack });
using _reload = reloadOnSignal({ enclave, configFile: file, logger, resolve: async (next) => next });
await enclave.ready;
console.log(enclave.url.href);
const { promise, resolve } = Promise.withResolvers<void>();
process.once("SIGTERM", () => void enclave.stop().then(resolve));
await promise;
logger.flush();
