import pino from "pino";
import { cliActor } from "../accounts/actor";
import { composeServices } from "../compose/compose-services";
import { loadConfig } from "../config/load";
import type { Config } from "../config/schema";
import { openConfiguredStore } from "../store/open-configured-store";
import { osUserName } from "./os-user-name";
import { UsageError } from "./parse-options";

export interface LocalAdminOptions {
  /** `--config PATH`; absent: the search order of loadConfig. */
  config?: string;
  /** `--init`: create the store when the data dir has none. */
  init?: boolean;
}

/**
 * What the admin commands (keys, accounts, usage, privacy) work with: the services the server
 * uses (composeServices), over the configured store (the data dir's SQLite file, or the fleet's
 * Postgres store) opened directly, as the local admin. No key is needed, which is how the first
 * admin key is made: whoever can read the data dir or the database already holds everything an
 * admin key would give. Quiet: commands print their own output.
 *
 * A SQLite store is created only with `--init`: a command run with another config (or from
 * another directory, before paths resolved against the config) would otherwise make a new empty
 * store and its keys would get 401 from the server.
 */
export async function openLocalAdmin(options: LocalAdminOptions) {
  const { config, file } = loadConfig({ path: options.config });
  const store = await openConfiguredStore(config, { create: options.init === true, configFile: file });
  const services = composeServices({ config, store, logger: pino({ level: "silent" }) });
  return {
    config: config as Readonly<Config>,
    actor: cliActor(osUserName()),
    services,
    store,
    keys: services.keys,
    accounts: services.accounts,
    async [Symbol.asyncDispose]() {
      await services[Symbol.asyncDispose]();
      await store[Symbol.asyncDispose]();
    },
  };
}

export type LocalAdmin = Awaited<ReturnType<typeof openLocalAdmin>>;

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
