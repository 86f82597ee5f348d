import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse as parseToml, TomlError } from "smol-toml";
import type { z } from "zod";
import { ConfigError, type ConfigProblem } from "./config-error";
import { resolveConfigPaths } from "./resolve-config-paths";
import { configSchema, type Config } from "./schema";
import { settings, type Setting } from "./settings";
import { formatParam } from "../validation/format-param";

/** Where a config is looked for when neither --config nor ENCLAVE_CONFIG names one, first found wins. */
export const CONFIG_SEARCH_PATHS = ["config/enclave.toml", "/etc/enclave/enclave.toml"] as const;

export interface LoadedConfig {
  config: Readonly<Config>;
  /** The file read, or null when none existed and only defaults and env applied. */
  file: string | null;
}

type Env = Record<string, string | undefined>;

export interface LoadOptions {
  /** `--config PATH`; it must exist. */
  path?: string;
  env?: Env;
  /** Tests replace the search list so a config installed on the machine cannot leak in. */
  search?: readonly string[];
}

/**
 * Reads TOML + `ENCLAVE_*` environment overrides into a frozen, validated Config. The file is
 * `--config`, else `ENCLAVE_CONFIG` (either must exist), else the first of CONFIG_SEARCH_PATHS
 * that exists, else none (built-in defaults). Every path setting comes back absolute
 * (resolveConfigPaths). Every problem is collected before throwing, so `config check` can list
 * them all at once.
 */
export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const file = findConfigFile(options.path, env.ENCLAVE_CONFIG, options.search ?? CONFIG_SEARCH_PATHS);
  const raw = file == null ? {} : readToml(file);
  const fromEnv = applyEnvOverrides(raw, env);
  const result = configSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(result.error.issues.map((issue) => toProblem(issue, raw, file, fromEnv)));
  const cwd = resolve(".");
  return { config: deepFreeze(resolveConfigPaths(result.data, { file: file == null ? cwd : dirname(file), env: cwd }, fromEnv)), file };
}

function findConfigFile(flag: string | undefined, fromEnv: string | undefined, search: readonly string[]): string | null {
  const named = flag ?? (fromEnv !== "" ? fromEnv : undefined);
  if (named != null) {
    const file = resolve(named);
    if (!existsSync(file))
      throw new ConfigError([{ source: flag != null ? "--config" : "ENCLAVE_CONFIG", key: "(file)", expected: "a readable TOML file", got: `no such file: ${file}` }]);
    return file;
  }
  return search.map((candidate) => resolve(candidate)).find((candidate) => existsSync(candidate)) ?? null;
}

function readToml(file: string): Record<string, unknown> {
  try {
    return parseToml(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof TomlError)
      throw new ConfigError([
        { source: `${file}:${error.line}:${error.column}`, key: "(syntax)", expected: "valid TOML", got: firstLine(error.message) },
      ]);
    throw new ConfigError([{ source: file, key: "(file)", expected: "a readable TOML file", got: String((error as Error).message) }]);
  }
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? text;
}

/** Sets env values into the raw tree, typed by the schema leaf; returns which key paths came from env. */
function applyEnvOverrides(raw: Record<string, unknown>, env: Env): Map<string, string> {
  const fromEnv = new Map<string, string>();
  for (const setting of settings) {
    if (setting.env == null) continue;
    const value = env[setting.env];
    if (value == null) continue;
    setPath(raw, setting.path, parseEnvValue(setting, value));
    fromEnv.set(setting.path.join("."), setting.env);
  }
  return fromEnv;
}

function parseEnvValue(setting: Setting, value: string): unknown {
  switch (setting.kind) {
    case "number": {
      const number = Number(value);
      return value.trim() !== "" && Number.isFinite(number) ? number : value;
    }
    case "boolean":
      return value === "true" || value === "1" ? true : value === "false" || value === "0" ? false : value;
    case "array":
      return value === "" ? [] : value.split(",").map((item) => item.trim());
    default:
      return value;
  }
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== "object" || node[key] == null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path.at(-1)!] = value;
}

function getPath(target: unknown, path: PropertyKey[]): unknown {
  let node = target;
  for (const key of path) {
    if (node == null || typeof node !== "object") return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function toProblem(issue: z.core.$ZodIssue, raw: unknown, file: string | null, fromEnv: Map<string, string>): ConfigProblem {
  const key = formatParam(issue.path);
  const source = fromEnv.get(key) ?? file ?? "(defaults)";
  const got = getPath(raw, issue.path);
  switch (issue.code) {
    case "invalid_type":
      return { source, key, expected: `a ${issue.expected}`, got: got === undefined ? "nothing (required)" : `${describeValue(got)} (${typeName(got)})` };
    case "invalid_value":
      return { source, key, expected: `one of ${issue.values.map((value) => JSON.stringify(value)).join(", ")}`, got: describeValue(got) };
    case "too_small":
      return { source, key, expected: `${issue.inclusive === false ? ">" : ">="} ${String(issue.minimum)}${sizeUnit(issue.origin)}`, got: describeValue(got) };
    case "too_big":
      return { source, key, expected: `${issue.inclusive === false ? "<" : "<="} ${String(issue.maximum)}${sizeUnit(issue.origin)}`, got: describeValue(got) };
    case "unrecognized_keys": {
      const known = Object.keys(knownKeys(issue.path));
      return {
        source,
        key: formatParam([...issue.path, ...issue.keys.slice(0, 1)]) + (issue.keys.length > 1 ? ` (and ${issue.keys.slice(1).join(", ")})` : ""),
        expected: known.length > 0 ? `one of the known keys: ${known.join(", ")}` : "no such key",
        got: "an unknown key",
      };
    }
    case "invalid_union":
      return { source, key, expected: "a value of one of the allowed forms (see `enclave config print`)", got: describeValue(got) };
    default:
      return { source, key, expected: issue.message, got: describeValue(got) };
  }
}

function sizeUnit(origin: string): string {
  return origin === "string" ? " characters" : origin === "array" ? " items" : "";
}

function typeName(value: unknown): string {
  if (Array.isArray(value)) return "array";
  if (value === null) return "null";
  return typeof value;
}

/** Keys the schema accepts at an object path, so a typo's message lists the right spellings. */
function knownKeys(path: PropertyKey[]): Record<string, unknown> {
  let schema: unknown = configSchema;
  for (const key of path) schema = childSchema(schema, key);
  return unwrapSchema(schema)?.def.shape as Record<string, unknown> | undefined ?? {};
}

type SchemaNode = { def: Record<string, unknown> & { type: string } };

function unwrapSchema(schema: unknown): SchemaNode | undefined {
  let node = schema as SchemaNode | undefined;
  while (node && ["default", "prefault", "optional", "pipe"].includes(node.def.type))
    node = (node.def.innerType ?? node.def.in) as SchemaNode;
  return node;
}

function childSchema(schema: unknown, key: PropertyKey): unknown {
  const node = unwrapSchema(schema);
  if (node == null) return undefined;
  if (typeof key === "number") return node.def.element;
  return (node.def.shape as Record<string, unknown> | undefined)?.[key as string];
}

function deepFreeze<T>(value: T): T {
  if (value != null && typeof value === "object") {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
