/** One flag of a command: what the parser accepts and what `--help` says about it, from one definition. */
export interface OptionSpec {
  type: "string" | "boolean";
  /** The value's placeholder in help: `--name NAME`. */
  value?: string;
  description: string;
  default?: string;
  /** The actions it applies to (help lists only those under `enclave CMD ACTION --help`); absent: every action. */
  actions?: readonly string[];
}

export interface ActionSpec {
  /** What follows `enclave CMD` for this action, without the options: `get ID`. */
  synopsis: string;
  description: string;
}

/**
 * A command as the parser and `--help` both read it, so the help cannot drift from what is
 * accepted. A command either has actions (`keys create|list...`) or one synopsis.
 */
export interface CommandSpec<O extends Record<string, OptionSpec> = Record<string, OptionSpec>> {
  name: string;
  description: string;
  actions?: Record<string, ActionSpec>;
  /** Without actions: what follows `enclave CMD`, e.g. `--account ID|NAME`. */
  synopsis?: string;
  /** Whether arguments other than the action are taken (`keys get ID`). */
  positionals?: boolean;
  options: O;
  notes?: readonly string[];
}

/** Keeps each option's literal type, so parsed values are typed from the same definitions. */
export function defineCommand<const O extends Record<string, OptionSpec>>(spec: CommandSpec<O>): CommandSpec<O> {
  return spec;
}
