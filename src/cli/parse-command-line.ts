import type { CommandSpec, OptionSpec } from "./command-spec";
import { HelpRequest, parseOptions, UsageError } from "./parse-options";

/**
 * parseOptions for a command that handles its own errors: the parsed line, or the exit code
 * after printing the help (0) or the one-line usage error (2), as runCommand would.
 */
export function parseCommandLine<O extends Record<string, OptionSpec>>(spec: CommandSpec<O>, args: string[]): ReturnType<typeof parseOptions<O>> | number {
  try {
    return parseOptions(spec, args);
  } catch (error) {
    if (error instanceof HelpRequest) {
      console.log(error.message);
      return 0;
    }
    if (error instanceof UsageError) {
      console.error(`enclave ${spec.name}: ${error.message}; see 'enclave ${spec.name} --help'`);
      return 2;
    }
    throw error;
  }
}
