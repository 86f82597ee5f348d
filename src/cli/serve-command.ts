import { ConfigError, formatProblem } from "../config/config-error";
import { loadConfig } from "../config/load";
import { lockDataDir } from "../db/data-dir-lock";
import { upstreamCredentials } from "../config/upstream-credentials";
import { createLlamaEngine } from "../inference/llama-engine";
import { createLogger } from "../logging/logger";
import { runtimeInfoOf } from "../metrics/llama-runtime-info";
import { createMetrics } from "../metrics/metrics-registry";
import { enforceResidency, refuseResidencyViolations, ResidencyViolationError } from "../residency/enforce-residency";
import { resolveModels } from "../serve/resolve-models";
import { startEnclave } from "../serve/start-enclave";
import { withUpstreams } from "../upstreams/with-upstreams";
import { ENCLAVE_VERSION } from "../version";
import { modelFileProblems } from "../serve/model-file-problems";
import { defineCommand } from "./command-spec";
import { commonOptions } from "./common-options";
import { describeEngineFailure } from "./describe-engine-failure";
import { parseCommandLine } from "./parse-command-line";
import { createProgressReporter } from "./progress-reporter";

const spec = defineCommand({
  name: "serve",
  description: "start the API; runs until SIGTERM or SIGINT; creates the store in the data dir on first start",
  options: { config: commonOptions.config },
});

/** `enclave serve [--config PATH]`: runs until SIGTERM/SIGINT, then shuts down in reverse order. */
export async function serveCommand(args: string[]): Promise<number> {
  const parsed = parseCommandLine(spec, args);
  if (typeof parsed === "number") return parsed;
  const { values } = parsed;
  let loaded;
  let credentials;
  try {
    loaded = loadConfig({ path: values.config });
    credentials = upstreamCredentials(loaded.config);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`enclave: refusing to start; config has ${error.problems.length} problem(s):`);
    for (const problem of error.problems) console.error(`  ${formatProblem(problem)}`);
    return 1;
  }
  const logger = createLogger(loaded.config);
  logger.info({ config: loaded.file ?? "(built-in defaults)" }, "starting");

  try {
    refuseResidencyViolations(loaded.config);
  } catch (error) {
    if (!(error instanceof ResidencyViolationError)) throw error;
    console.error(`enclave: refusing to start; the config breaks its own [residency] in ${error.violations.length} way(s):`);
    for (const violation of error.violations) console.error(`  ${violation.key}: ${violation.message}`);
    return 1;
  }
  const missing = modelFileProblems(loaded.config);
  if (missing.length > 0) {
    console.error(`enclave: refusing to start; ${missing.length} model file problem(s):`);
    for (const problem of missing) console.error(`  ${problem}`);
    return 1;
  }
  // One server per data dir, taken after the checks that refuse to write anything; released on return.
  using _dataDir = lockDataDir(loaded.config.storage.data_dir);
  using _egress = enforceResidency(loaded.config, logger);

  const progress = createProgressReporter("forging the demo model");
  const config = await resolveModels(loaded.config, logger, (done, total) => progress.update(done, total));
  progress.finish("demo model forged");
  const metrics = createMetrics({ config, version: ENCLAVE_VERSION });
  let enclave;
  try {
    enclave = await startEnclave({
      config,
      logger,
      metrics,
      // The local engine always runs behind the region-aware router: per-key regions apply, and
      // [[upstreams]] take overflow and the models served only there.
      createEngine: (engineConfig) => {
        const local = createLlamaEngine({ config: engineConfig, logger, onLlamaLoaded: (llama) => metrics.setRuntime(runtimeInfoOf(llama)) });
        return Promise.resolve(withUpstreams({ config: engineConfig, local, credentials, logger }));
      },
    });
  } catch (error) {
    if ((error as { code?: unknown })?.code !== "EADDRINUSE") throw error;
    const { host, port } = config.server;
    console.error(`enclave: port ${port} on ${host} is in use by another process: stop it, or set [server] port (ENCLAVE_SERVER_PORT; 0 picks a free one)`);
    return 1;
  }
  if (config.ui.enabled) logger.info({ url: new URL("/ui", enclave.url).href }, "admin console");

  const { promise: stopped, resolve } = Promise.withResolvers<void>();
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    signalled = true;
    logger.info({ signal }, "signal received");
    enclave.stop().then(resolve, resolve);
  };
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  // A server whose default model cannot load would never become ready: stop rather than linger.
  // A load cut short by a requested stop is not that failure.
  let exitCode = 0;
  enclave.ready.catch((error: unknown) => {
    if (signalled) return;
    console.error(`enclave: ${describeEngineFailure(error, config)}`);
    exitCode = 1;
    enclave.stop().then(resolve, resolve);
  });
  await stopped;
  logger.flush();
  return exitCode;
}
