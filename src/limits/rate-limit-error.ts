import type { RateLimitCode } from "../error-codes";
import { EnclaveError } from "../errors";

/** 429 rate_limit_error with Retry-After: concurrency queue full or waited too long, rpm, tpm, budget, credits. */
export class RateLimitError extends EnclaveError {
  constructor(message: string, options: { code: RateLimitCode; retryAfterSeconds?: number; details?: Record<string, number | string> }) {
    super({ message, status: 429, type: "rate_limit_error", code: options.code, retryAfterSeconds: options.retryAfterSeconds, details: options.details });
  }
}
