import { type ParseArgsConfig, parseArgs } from "node:util";

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * A script's command line, read by node's parseArgs (strict: an unknown option is an error). `--help`
 * prints the usage. A bad option, and any error the script throws after, ends the script with one
 * line on stderr (exit status 2 for a bad command line, 1 otherwise) instead of a stack trace.
 */
export function scriptArgs<const T extends Options>(script: string, usage: string, options: T): ReturnType<typeof parseArgs<{ options: T }>>["values"] {
  const fail = (message: string, status: number): never => {
    console.error(`${script}: ${message}`);
    process.exit(status);
  };
  process.on("uncaughtException", (error) => fail(error instanceof Error ? error.message : String(error), 1));
  process.on("unhandledRejection", (error) => fail(error instanceof Error ? error.message : String(error), 1));
  if (process.argv.includes("--help")) {
    console.log(`usage: ${usage}`);
    process.exit(0);
  }
  try {
    return parseArgs({ options }).values;
  } catch (error) {
    return fail(`${error instanceof Error ? error.message : String(error)}\nusage: ${usage}`, 2);
  }
}

/** An option that must be a number at least `min`: a clear error for `--tokens abc` rather than NaN further down. */
export function numberArg(name: string, value: string, min = 0): number {
  const parsed = Number(value);
  if (value.trim() === "" || !Number.isFinite(parsed) || parsed < min) throw new Error(`--${name} must be a number of at least ${min}; got "${value}"`);
  return parsed;
}

/** An option that must be one of `choices`: a clear error for `--gpu rocm`. */
export function choiceArg<const C extends string>(name: string, value: string, choices: readonly C[]): C {
  if (!(choices as readonly string[]).includes(value)) throw new Error(`--${name} must be one of ${choices.join(", ")}; got "${value}"`);
  return value as C;
}
