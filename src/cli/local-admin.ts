import { userInfo } from "node:os";
import pino from "pino";
import { cliActor } from "../accounts/actor";
import { composeServices } from "../compose/compose-services";
import { ConfigError, formatProblem } from "../config/config-error";
import { loadConfig } from "../config/load";
import type { Config } from "../config/schema";
import { openStore } from "../db/client";
import { migrate } from "../db/migrate";
import { EnclaveError } from "../errors";
import { UsageError } from "./parse-options";

/**
 * What the admin commands (keys, accounts, usage, privacy) work with: the services the server
 * uses (composeServices), over the store opened directly, as the local admin. No key is needed,
 * which is how the first admin key is made: whoever can read the data dir already holds
 * everything an admin key would give. Quiet: commands print their own output.
 */
export function openLocalAdmin(configPath: string | undefined) {
  const { config } = loadConfig({ path: configPath });
  const store = openStore(config.storage.data_dir);
  migrate(store);
  const services = composeServices({ config, store, logger: pino({ level: "silent" }) });
  return {
    config: config as Readonly<Config>,
    actor: cliActor(safeUserName()),
    services,
    store,
    keys: services.keys,
    accounts: services.accounts,
    [Symbol.dispose]: () => store[Symbol.dispose](),
  };
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return "unknown";
  }
}

/** Runs an admin command body, turning the errors a user can fix into one line and an exit code. */
export async function runAdminCommand(usage: string, body: () => Promise<number> | number): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`enclave: ${error.message}\n${usage}`);
      return 2;
    }
    if (error instanceof ConfigError) {
      console.error(`config has ${error.problems.length} problem(s):`);
      for (const problem of error.problems) console.error(`  ${formatProblem(problem)}`);
      return 1;
    }
    if (error instanceof EnclaveError) {
      console.error(`enclave: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

/** A numeric flag; "none" (for updates) resets it to the config default. */
export function numberFlag(name: string, value: string | undefined, allowNone = false): number | null | undefined {
  if (value === undefined) return undefined;
  if (allowNone && value === "none") return null;
  const number = Number(value);
  if (value.trim() === "" || !Number.isFinite(number)) throw new UsageError(`--${name} expects a number${allowNone ? " or 'none'" : ""}; got '${value}'`);
  return number;
}

/** A comma-separated list flag; "none" (for updates) clears it. */
export function listFlag(value: string | undefined, allowNone = false): string[] | null | undefined {
  if (value === undefined) return undefined;
  if (allowNone && value === "none") return null;
  return value.split(",").map((item) => item.trim()).filter((item) => item.length > 0);
}

export function textFlag(value: string | undefined, allowNone = false): string | null | undefined {
  if (value === undefined) return undefined;
  return allowNone && value === "none" ? null : value;
}

/** Prints rows as aligned columns. */
export function printTable(rows: Record<string, unknown>[], columns: string[]): void {
  const cell = (value: unknown) => (value == null ? "-" : typeof value === "object" ? JSON.stringify(value) : String(value));
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => cell(row[column]).length)));
  const line = (values: string[]) => values.map((value, index) => value.padEnd(widths[index]!)).join("  ").trimEnd();
  console.log(line(columns));
  for (const row of rows) console.log(line(columns.map((column) => cell(row[column]))));
}
