import type { Caller } from "./caller";
import { PermissionDeniedError } from "../errors";

/** 403 when the caller's key may not use the model. Only the key's own list is named, never the model asked for. */
export function assertModelAllowed(caller: Caller, model: string): void {
  const allowed = caller.key.models;
  if (allowed != null && !allowed.includes(model))
    throw new PermissionDeniedError(`this API key may not use the model it asked for; it may use: ${allowed.join(", ")}`, {
      code: "model_not_allowed",
      param: "model",
    });
}

/** The models the caller's key may see. */
export function visibleTo<T extends { id: string }>(caller: Caller, models: T[]): T[] {
  const allowed = caller.key.models;
  return allowed == null ? models : models.filter((model) => allowed.includes(model.id));
}
