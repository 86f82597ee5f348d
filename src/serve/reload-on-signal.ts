import { ConfigError } from "../config/config-error";
import { loadConfig } from "../config/load";
import type { Config } from "../config/schema";
import { upstreamCredentials } from "../config/upstream-credentials";
import type { Logger } from "../logging/logger";
import { refuseResidencyViolations, ResidencyViolationError } from "../residency/enforce-residency";
import type { RunningEnclave } from "./start-enclave";

export interface ReloadOnSignalDeps {
  enclave: Pick<RunningEnclave, "reload">;
  /** The file the server started from; null: nothing to reload. */
  configFile: string | null;
  logger: Pick<Logger, "info" | "warn" | "error">;
  /** Completes a loaded config as start-up does (the demo pair when it has no [[models]]). */
  resolve: (config: Readonly<Config>) => Promise<Readonly<Config>>;
  signal?: NodeJS.Signals;
}

/**
 * On SIGHUP, reads the config file again and applies it (see RunningEnclave.reload). A file that
 * does not validate, breaks [residency] or names an unset upstream key variable is refused whole:
 * the running config stays, and the error log names the file and each key at fault (never a
 * value, which may be a secret). Reloads run one at a time, in the order the signals came.
 */
export function reloadOnSignal(deps: ReloadOnSignalDeps): Disposable & { reloading(): Promise<void> } {
  const { enclave, configFile, logger } = deps;
  const signal = deps.signal ?? "SIGHUP";
  let chain = Promise.resolve();

  const refuse = (problems: { key: string; message: string }[]) =>
    logger.error(
      { config: configFile, problems },
      `config reload refused, the running config stays: ${problems.map((problem) => `${configFile}: ${problem.key}: ${problem.message}`).join("; ")}`,
    );

  async function reload() {
    if (configFile == null) {
      logger.warn({ signal }, "the server runs on built-in defaults without a config file: nothing to reload");
      return;
    }
    let next: Readonly<Config>;
    try {
      next = loadConfig({ path: configFile }).config;
      refuseResidencyViolations(next);
      upstreamCredentials(next);
    } catch (error) {
      if (error instanceof ConfigError) return refuse(error.problems.map((problem) => ({ key: problem.key, message: `expected ${problem.expected} (${problem.source})` })));
      if (error instanceof ResidencyViolationError) return refuse(error.violations);
      throw error;
    }
    await enclave.reload(await deps.resolve(next));
  }

  const onSignal = () => {
    logger.info({ signal, config: configFile }, "signal received: reloading the config");
    chain = chain.then(reload).catch((error: unknown) => logger.error({ err: { type: error instanceof Error ? error.name : typeof error } }, "config reload failed; the running config stays"));
  };
  process.on(signal, onSignal);
  return {
    reloading: () => chain,
    [Symbol.dispose]: () => {
      process.off(signal, onSignal);
    },
  };
}
