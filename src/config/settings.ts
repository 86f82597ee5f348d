import { z } from "zod";
import { configSchema } from "./schema";

/** One leaf of the config: where it lives, its default, what it means, and how to override it. */
export interface Setting {
  path: string[];
  env: string | null;
  kind: "string" | "number" | "boolean" | "enum" | "array" | "union" | "object";
  defaultValue: unknown;
  description: string;
  /** A credential: shown only as set or unset. */
  secret: boolean;
  schema: z.ZodType;
}

type AnySchema = z.ZodType & { def: Record<string, unknown> & { type: string }; description?: string };

function unwrap(schema: AnySchema): { inner: AnySchema; defaultValue: unknown; description: string; secret: boolean } {
  let inner = schema;
  let defaultValue: unknown;
  let description = schema.description ?? "";
  let secret = z.globalRegistry.get(schema)?.secret === true;
  for (;;) {
    const { type } = inner.def;
    if (type === "default" || type === "prefault") {
      defaultValue = inner.def.defaultValue;
    } else if (type !== "optional") break;
    inner = inner.def.innerType as AnySchema;
    description ||= inner.description ?? "";
    secret ||= z.globalRegistry.get(inner)?.secret === true;
  }
  return { inner, defaultValue, description, secret };
}

/** Env overrides exist for scalars and lists of scalars in tables; array-of-tables entries ([[models]]) are file-only. */
export function envName(path: string[]): string {
  return `ENCLAVE_${path.join("_").toUpperCase()}`;
}

function collect(schema: AnySchema, path: string[], out: Setting[]): void {
  const { inner, defaultValue, description, secret } = unwrap(schema);
  const type = inner.def.type;
  if (type === "object" && path.length === 0) {
    for (const [key, child] of Object.entries(inner.def.shape as Record<string, AnySchema>)) collect(child, [key], out);
    return;
  }
  if (type === "object") {
    for (const [key, child] of Object.entries(inner.def.shape as Record<string, AnySchema>)) collect(child, [...path, key], out);
    return;
  }
  if (type === "pipe") return collect(inner.def.in as AnySchema, path, out);
  const kind: Setting["kind"] =
    type === "enum" ? "enum" : type === "array" ? "array" : type === "union" ? "union" : (type as Setting["kind"]);
  const isTableArray = type === "array" && (unwrap(inner.def.element as AnySchema).inner.def.type === "object");
  out.push({ path, env: isTableArray ? null : envName(path), kind, defaultValue, description, secret, schema: inner });
}

function buildSettings(): Setting[] {
  const out: Setting[] = [];
  collect(configSchema as unknown as AnySchema, [], out);
  return out;
}

export const settings: readonly Setting[] = buildSettings();
