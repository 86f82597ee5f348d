import { InvalidRequestError } from "../../errors";

export const WAIT_FOR_MODEL_HEADER = "x-enclave-wait-for-model";

/**
 * `X-Enclave-Wait-For-Model: false` asks for an immediate 503 (with Retry-After) while the model is
 * still loading, instead of waiting for it. A header rather than a body field keeps request bodies
 * pure OpenAI, and the official SDKs can send it (`defaultHeaders` or per-call `headers`).
 * Absent means true.
 */
export function waitForModel(headers: Headers): boolean {
  const value = headers.get(WAIT_FOR_MODEL_HEADER)?.trim().toLowerCase();
  if (value === undefined || value === "" || value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw new InvalidRequestError("X-Enclave-Wait-For-Model must be 'true' or 'false'", {
    param: "X-Enclave-Wait-For-Model",
  });
}
