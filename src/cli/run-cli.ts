import { configCommand } from "./config-command";
import { forgeCommand } from "./forge-command";
import { serveCommand } from "./serve-command";
import { versionCommand } from "./version-command";

export type Command = (args: string[]) => Promise<number>;

const commands: Record<string, { run: Command; summary: string }> = {
  serve: { run: serveCommand, summary: "serve [--config PATH]            start the API" },
  config: { run: configCommand, summary: "config check|print [--config PATH]  validate or list every setting" },
  forge: { run: forgeCommand, summary: "forge [--preset tiny|demo|bench] [--out DIR]  write a deterministic target+draft GGUF pair" },
  version: { run: versionCommand, summary: "version                           print versions" },
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
  if (name === "--version") return versionCommand([]);
  const command = commands[name];
  if (command == null) {
    console.error(`enclave: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  return command.run(args);
}
