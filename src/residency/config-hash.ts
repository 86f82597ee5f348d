import { createHash } from "node:crypto";
import type { Config } from "../config/schema";
import { settings } from "../config/settings";

/**
 * sha256 of the effective config in canonical form (sorted keys), so an auditor can tell whether
 * two reports describe the same configuration. Secrets are replaced by a marker of presence.
 */
export function configHash(config: Readonly<Config>): string {
  const redacted = structuredClone(config) as Record<string, unknown>;
  for (const setting of settings.filter((candidate) => candidate.secret)) {
    const section = setting.path.slice(0, -1).reduce<Record<string, unknown> | undefined>((node, key) => node?.[key] as Record<string, unknown> | undefined, redacted);
    const key = setting.path.at(-1)!;
    if (section != null && section[key] !== "") section[key] = "(set)";
  }
  return `sha256:${createHash("sha256").update(canonicalJson(redacted)).digest("hex")}`;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value != null && typeof value === "object")
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`)
      .join(",")}}`;
  return JSON.stringify(value) ?? "null";
}
