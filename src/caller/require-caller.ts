import { EnclaveError } from "../errors";
import type { Caller } from "./caller";

/**
 * The request's caller, for a guard that cannot work without one. A request without a caller
 * never reached a guarded engine through the gate: refusing it keeps the guard closed.
 */
export function requireCaller(request: { caller?: Caller }, guard: string): Caller {
  if (request.caller == null)
    throw new EnclaveError({ message: `${guard} refused a request without a caller`, status: 500, type: "api_error", code: "internal_error" });
  return request.caller;
}
