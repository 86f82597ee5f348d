import { createHash } from "node:crypto";
import type { Config } from "../config/schema";

/**
 * sha256 of the effective config in canonical form (sorted keys), so an auditor can tell whether
 * two reports describe the same configuration. Secrets are replaced by a marker of presence.
 */
export function configHash(config: Readonly<Config>): string {
  const redacted = { ...config, auth: { ...config.auth, pepper: config.auth.pepper === "" ? "" : "(set)" } };
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
