import { chmodSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { parse, stringify } from "smol-toml";

export type ModelsEdit = { add: Record<string, unknown> } | { remove: string };

/**
 * Writes one `[[models]]` change back to the config file and keeps every other setting in it.
 * The file is parsed and written again whole (smol-toml keeps no comments), into a temporary file
 * renamed over the original, so a crash never leaves half a config.
 */
export function persistModels(file: string, edit: ModelsEdit): void {
  const raw = parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  const models = Array.isArray(raw.models) ? (raw.models as Record<string, unknown>[]) : [];
  raw.models = "add" in edit ? [...models, edit.add] : models.filter((model) => model.id !== edit.remove);
  if ((raw.models as unknown[]).length === 0) delete raw.models;
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${stringify(raw)}\n`, { mode: 0o600 });
  chmodSync(temporary, statSync(file).mode & 0o777);
  renameSync(temporary, file);
}
