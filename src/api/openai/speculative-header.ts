import { InvalidRequestError } from "../../errors";

export const SPECULATIVE_HEADER = "x-enclave-speculative";

/**
 * `X-Enclave-Speculative: off` runs one request without speculative decoding (no draft model, no
 * prompt lookup), e.g. to compare speeds; the output is the same either way. `auto` or no header:
 * the model's speculative settings decide. A header keeps request bodies pure OpenAI.
 */
export function speculativeHeader(headers: Headers): "auto" | "off" {
  const value = headers.get(SPECULATIVE_HEADER)?.trim().toLowerCase();
  if (value === undefined || value === "" || value === "auto" || value === "on") return "auto";
  if (value === "off") return "off";
  throw new InvalidRequestError("X-Enclave-Speculative must be 'auto' or 'off'", { param: "X-Enclave-Speculative" });
}
