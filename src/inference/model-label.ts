import type { Engine } from "./engine";

/** A model a client named, as metadata may keep it: a configured id, or "unknown" (a client-supplied string is never kept). */
export const UNKNOWN_MODEL = "unknown";

export function createModelLabel(engine: Pick<Engine, "models">) {
  let known = new Set<string>();
  return (model: string): string => {
    if (known.has(model)) return model;
    known = new Set(engine.models().map((status) => status.id));
    return known.has(model) ? model : UNKNOWN_MODEL;
  };
}
