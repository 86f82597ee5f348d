import { ConfigError, formatProblem } from "../config/config-error";
import { DataDirError } from "../db/data-dir-error";
import { SharedStoreError } from "../db/shared-store-error";
import { storeErrorOf } from "../db/store-error-of";
import { EnclaveError } from "../errors";
import type { CommandSpec, OptionSpec } from "./command-spec";
import { parseCommandLine } from "./parse-command-line";
import { type parseOptions, UsageError } from "./parse-options";

/**
 * Parses a command line by its spec and runs the body, turning what the user can fix into
 * plain lines and an exit code: help to stdout (0); a usage error as one line (2); a config's
 * problems, one a line, or a runtime failure as one line (1). Anything else is rethrown for
 * runCli, which still prints one line and never a stack.
 */
export async function runCommand<O extends Record<string, OptionSpec>>(
  spec: CommandSpec<O>,
  args: string[],
  body: (parsed: ReturnType<typeof parseOptions<O>>) => Promise<number> | number,
): Promise<number> {
  const parsed = parseCommandLine(spec, args);
  if (typeof parsed === "number") return parsed;
  try {
    return await body(parsed);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`enclave ${spec.name}: ${error.message}; see 'enclave ${spec.name} --help'`);
      return 2;
    }
    if (error instanceof ConfigError) {
      console.error(`enclave: config has ${error.problems.length} problem(s):`);
      for (const problem of error.problems) console.error(`  ${formatProblem(problem)}`);
      return 1;
    }
    const known = storeErrorOf(error) ?? error;
    if (known instanceof EnclaveError || known instanceof DataDirError || known instanceof SharedStoreError) {
      console.error(`enclave: ${known.message}`);
      return 1;
    }
    throw error;
  }
}
