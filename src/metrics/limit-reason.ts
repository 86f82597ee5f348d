import type { RateLimitCode } from "../error-codes";

/** Why a request got 429, as a bounded label: the RateLimitError codes of src/limits, grouped. */
export type LimitReason = "concurrency" | "rpm" | "tpm" | "budget" | "credits" | "other";

export const LIMIT_REASONS: readonly LimitReason[] = ["concurrency", "rpm", "tpm", "budget", "credits", "other"];

// Typed by the 429 codes, so a new limit cannot be added without its label.
const reasons: Record<RateLimitCode, LimitReason> = {
  concurrency_queue_full: "concurrency",
  concurrency_wait_exceeded: "concurrency",
  rate_limit_requests: "rpm",
  rate_limit_tokens: "tpm",
  budget_exceeded: "budget",
  insufficient_quota: "credits",
};

/** The reason label of a 429's error code; unknown codes count as "other" so the label set stays bounded. */
export function limitReason(code: string | null | undefined): LimitReason {
  return (code != null && Object.hasOwn(reasons, code) && reasons[code as RateLimitCode]) || "other";
}
