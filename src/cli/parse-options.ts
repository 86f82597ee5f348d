import { parseArgs } from "node:util";
import type { CommandSpec, OptionSpec } from "./command-spec";
import { formatHelp } from "./format-help";

/** A command line the command cannot run: exit 2, one line naming the problem and where the usage is. */
export class UsageError extends Error {}

/** `--help` or `-h` was given: the help text goes to stdout and the command exits 0 without running. */
export class HelpRequest extends Error {}

type Values<O extends Record<string, OptionSpec>> = { [K in keyof O]?: O[K]["type"] extends "boolean" ? boolean : string };

/** node:util parseArgs over the spec's options, with `--help` answered and its errors turned into one-line usage errors. */
export function parseOptions<O extends Record<string, OptionSpec>>(spec: CommandSpec<O>, args: string[]): { values: Values<O>; positionals: string[] } {
  const options = Object.fromEntries(
    Object.entries(spec.options).map(([name, option]) => [name, { type: option.type, ...(option.default != null && { default: option.default }) }]),
  );
  const allowPositionals = spec.actions != null || spec.positionals === true;
  const beforeSeparator = args.includes("--") ? args.slice(0, args.indexOf("--")) : args;
  if (beforeSeparator.includes("--help") || beforeSeparator.includes("-h")) {
    const loose = parseArgs({ args: beforeSeparator.filter((arg) => arg !== "--help" && arg !== "-h"), options, allowPositionals: true, strict: false });
    throw new HelpRequest(formatHelp(spec, loose.positionals[0]));
  }
  try {
    const { values, positionals } = parseArgs({ args, options, allowPositionals, strict: true });
    return { values: values as Values<O>, positionals };
  } catch (error) {
    throw new UsageError(describeParseError(error, spec));
  }
}

function describeParseError(error: unknown, spec: CommandSpec): string {
  const { code, message } = error as { code?: string; message?: string };
  const quoted = /'([^' ]+)/.exec(message ?? "")?.[1] ?? "";
  const option = spec.options[quoted.replace(/^--?/, "")];
  switch (code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option '${quoted}'`;
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return `unexpected argument '${quoted}'`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      if (option?.type === "boolean") return `${quoted} takes no value`;
      return `${quoted} needs a value (${quoted} ${option?.value ?? "VALUE"})`;
    default:
      return (message ?? String(error)).split("\n")[0]!;
  }
}
