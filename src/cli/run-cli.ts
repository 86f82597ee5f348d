import { DataDirError } from "../db/data-dir-error";
import { storeErrorOf } from "../db/store-error-of";
import { EnclaveError } from "../errors";

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
  version: { load: async () => (await import("./version-command")).versionCommand, summary: "version                           print versions" },
};

export function usage(): string {
  return ["usage: enclave <command> [options]", "", ...Object.values(commands).map((command) => `  enclave ${command.summary}`)].join("\n");
}

/** Returns the process exit code; commands print their own output. */
export async function runCli(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name == null || name === "help" || name === "--help" || name === "-h") {
    console.log(usage());
    return name == null ? 1 : 0;
  }
  if (name === "--version") return (await commands.version!.load())([]);
  const command = commands[name];
  if (command == null) {
    console.error(`enclave: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  try {
    return await (await command.load())(args);
  } catch (error) {
    console.error(`enclave: ${describeFailure(error)}`);
    return 1;
  }
}

/** One line for the terminal, never a stack: what the operator can act on, else the error's class and first line. */
function describeFailure(error: unknown): string {
  const known = storeErrorOf(error) ?? error;
  if (known instanceof EnclaveError || known instanceof DataDirError) return known.message;
  const message = known instanceof Error ? (known.message.split("\n")[0] ?? "").slice(0, 300) : String(known).slice(0, 300);
  return `failed (${known instanceof Error ? known.name : typeof known}): ${message}`;
}
