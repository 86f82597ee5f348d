import { describeFailure } from "./describe-failure";

export type Command = (args: string[]) => Promise<number>;

/** Each command is imported only when it runs, so `enclave version` does not load Elysia or the engine. */
const commands: Record<string, { load: () => Promise<Command>; summary: string }> = {
  serve: { load: async () => (await import("./serve-command")).serveCommand, summary: "serve [--config PATH]            start the API" },
  config: {
    load: async () => (await import("./config-command")).configCommand,
    summary: "config check|print [--config PATH]  validate or list every setting",
  },
  forge: {
    load: async () => (await import("./forge-command")).forgeCommand,
    summary: "forge [--preset tiny|demo|bench] [--out DIR]  write a deterministic target+draft GGUF pair",
  },
  keys: {
    load: async () => (await import("./keys-command")).keysCommand,
    summary: "keys create|list|get|update|revoke  API keys (the secret is printed once, at creation)",
  },
  accounts: {
    load: async () => (await import("./accounts-command")).accountsCommand,
    summary: "accounts create|list|update|delete|credits  accounts, their limits and prepaid credits",
  },
  usage: {
    load: async () => (await import("./usage-command")).usageCommand,
    summary: "usage [--key ID] [--account ID] [--since DATE] [--until DATE] [--by key,account,model,day]  metered usage",
  },
  models: {
    load: async () => (await import("./models-command")).modelsCommand,
    summary: "models list|add|load|unload|remove|inspect FILE  models while the server runs; inspect reads a GGUF header",
  },
  residency: {
    load: async () => (await import("./residency-command")).residencyCommand,
    summary: "residency report [--config PATH]  region, paths, egress mode, backends, config hash",
  },
  audit: {
    load: async () => (await import("./audit-command")).auditCommand,
    summary: "audit list|verify                 the append-only, hash-chained admin audit log",
  },
  purge: {
    load: async () => (await import("./purge-command")).purgeCommand,
    summary: "purge [--dry-run]                 run retention now",
  },
  export: {
    load: async () => (await import("./export-command")).exportCommand,
    summary: "export --account ID [--out FILE]  everything stored about an account, as JSON",
  },
  erase: {
    load: async () => (await import("./erase-command")).eraseCommand,
    summary: "erase --account ID                erase an account's personal data (idempotent)",
  },
  "draft-data": {
    load: async () => (await import("./draft-data-command")).draftDataCommand,
    summary: "draft-data export --out FILE | report  consented pairs for draft-model training; draft acceptance",
  },
  backup: { load: async () => (await import("./backup-command")).backupCommand, summary: "backup --out FILE                 a consistent copy of the store, while serving" },
  restore: { load: async () => (await import("./restore-command")).restoreCommand, summary: "restore --from FILE               replace the store with a backup (server stopped)" },
  store: {
    load: async () => (await import("./store-command")).storeCommand,
    summary: "store migrate | copy --from sqlite:PATH [--to URL]  schema migrations; move a SQLite store into Postgres",
  },
  version: { load: async () => (await import("./version-command")).versionCommand, summary: "version                           print versions" },
};

/** The command names, for tests that drive every command. */
export const COMMAND_NAMES = Object.keys(commands);

export function usage(): string {
  return [
    "usage: enclave <command> [options]",
    "",
    ...Object.values(commands).map((command) => `  enclave ${command.summary}`),
    "",
    "Every command takes --help (-h). The config is --config PATH, else $ENCLAVE_CONFIG, else ./config/enclave.toml, else /etc/enclave/enclave.toml.",
  ].join("\n");
}

/** Returns the process exit code; commands print their own output. */
export async function runCli(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === "help" || name === "--help" || name === "-h") {
    console.log(usage());
    return 0;
  }
  if (name == null) {
    console.error(usage());
    return 2;
  }
  if (name === "--version") return (await commands.version!.load())([]);
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (command == null) {
    console.error(`enclave: unknown command '${name}'; see 'enclave --help'`);
    return 2;
  }
  try {
    return await (await command.load())(args);
  } catch (error) {
    console.error(`enclave: ${describeFailure(error)}`);
    return 1;
  }
}
