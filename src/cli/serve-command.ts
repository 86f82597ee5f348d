import { resolve as resolvePath } from "node:path";
import { ConfigError, formatProblem } from "../config/config-error";
import { loadConfig } from "../config/load";
import { lockDataDir } from "../db/data-dir-lock";
import { upstreamCredentials } from "../config/upstream-credentials";
import { createLogger, logFormat } from "../logging/logger";
import { runtimeInfoOf } from "../metrics/llama-runtime-info";
import { createMetrics } from "../metrics/metrics-registry";
import { enforceResidency, refuseResidencyViolations, ResidencyViolationError } from "../residency/enforce-residency";
import { resolveModels } from "../serve/resolve-models";
import { reloadOnSignal } from "../serve/reload-on-signal";
import { createServeEngine } from "../serve/serve-engine";
import { startEnclave } from "../serve/start-enclave";
import { ENCLAVE_VERSION } from "../version";
import { defineCommand } from "./command-spec";
import { commonOptions } from "./common-options";
import { describeEngineFailure } from "./describe-engine-failure";
import { parseCommandLine } from "./parse-command-line";
import { createProgressReporter } from "./progress-reporter";
import { checkModelFiles } from "../models/check-model-files";

const spec = defineCommand({
  name: "serve",
  description: "start the API; runs until SIGTERM or SIGINT; creates the store in the data dir on first start",
  options: { config: commonOptions.config },
});

/** `enclave serve [--config PATH]`: runs until SIGTERM/SIGINT, then shuts down in reverse order; SIGHUP reloads the config file. */
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
  const dataDir = resolvePath(loaded.config.storage.data_dir);
  const configFile = loaded.file ?? "(built-in defaults: no config file found)";
  logger.info({ version: ENCLAVE_VERSION, config: configFile, dataDir }, `enclave ${ENCLAVE_VERSION} starting; config ${configFile}; data dir ${dataDir}`);

  try {
    refuseResidencyViolations(loaded.config);
  } catch (error) {
    if (!(error instanceof ResidencyViolationError)) throw error;
    console.error(`enclave: refusing to start; the config breaks its own [residency] in ${error.violations.length} way(s):`);
    for (const violation of error.violations) console.error(`  ${violation.key}: ${violation.message}`);
    return 1;
  }
  // Before anything listens: a missing model or a draft of another vocabulary would otherwise fail only at the first request.
  const files = await checkModelFiles(loaded.config.models, loaded.file ?? "(built-in defaults)");
  if (files.problems.length > 0) {
    console.error(`enclave: refusing to start; the model files have ${files.problems.length} problem(s):`);
    for (const problem of files.problems) console.error(`  ${formatProblem(problem)}`);
    return 1;
  }
  // One server per data dir, taken after the checks that refuse to write anything; released on return.
  using _dataDir = lockDataDir(loaded.config.storage.data_dir);
  using _egress = enforceResidency(loaded.config, logger);

  // A bar only beside human-readable lines on a terminal; JSON lines get the forge's one log line.
  const bar = process.stderr.isTTY === true && logFormat(loaded.config.logging.format, process.stdout.isTTY === true) === "pretty";
  const config = await resolveModels(loaded.config, logger, bar ? createProgressReporter("forging the demo model") : undefined);
  const metrics = createMetrics({ config, version: ENCLAVE_VERSION });
  let enclave;
  try {
    enclave = await startEnclave({
      config,
      logger,
      metrics,
      configFile: loaded.file,
      // The local models always run behind the region-aware router: per-key regions apply, and
      // [[upstreams]] take overflow and the models served only there.
      createEngine: async (engineConfig) =>
        createServeEngine({ config: engineConfig, logger, credentials: (next) => (next === engineConfig ? credentials : upstreamCredentials(next)), onLlamaLoaded: (llama) => metrics.setRuntime(runtimeInfoOf(llama)) }),
    });
  } catch (error) {
    if ((error as { code?: unknown })?.code !== "EADDRINUSE") throw error;
    const { host, port } = config.server;
    console.error(`enclave: port ${port} on ${host} is in use by another process: stop it, or set [server] port (ENCLAVE_SERVER_PORT; 0 picks a free one)`);
    return 1;
  }
  using _reload = reloadOnSignal({ enclave, configFile: loaded.file, logger, resolve: (next) => resolveModels(next, logger) });

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
