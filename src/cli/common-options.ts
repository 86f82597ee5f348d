import type { OptionSpec } from "./command-spec";

/** The flags many commands share, defined once. */
export const commonOptions = {
  config: {
    type: "string",
    value: "PATH",
    description: "config file; else $ENCLAVE_CONFIG, ./config/enclave.toml, /etc/enclave/enclave.toml, then built-in defaults",
  },
  init: { type: "boolean", description: "create the store if the data dir has none (without it, a missing store is an error, not a new empty one)" },
  json: { type: "boolean", description: "print JSON instead of a table" },
} as const satisfies Record<string, OptionSpec>;
