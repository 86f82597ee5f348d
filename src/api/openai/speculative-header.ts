import { InvalidRequestError } from "../../errors";

export const SPECULATIVE_HEADER = "x-enclave-speculative";

/**
 * `X-Enclave-Speculative: off` runs one request without speculative decoding (no draft model, no
 * prompt lookup); `on` drafts it even while adaptive drafting has paused the draft (a model
 * without a draft or lookup still cannot); e.g. to compare speeds: the output is the same either
 * way. `auto` or no header: the model's settings decide. A header keeps request bodies pure OpenAI.
 */
export function speculativeHeader(headers: Headers): "auto" | "on" | "off" {
  const value = headers.get(SPECULATIVE_HEADER)?.trim().toLowerCase();
  if (value === undefined || value === "" || value === "auto") return "auto";
  if (value === "on" || value === "off") return value;
  throw new InvalidRequestError("X-Enclave-Speculative must be 'auto', 'on' or 'off'", { param: "X-Enclave-Speculative" });
}
