import { EnclaveError } from "../errors";
import { isErrorCode } from "../error-codes";

/**
 * Errors of the proxy path. None quotes what the upstream said beyond its status and, when they
 * are plain identifiers, its error `code` and `param`: an upstream's message can echo the prompt.
 */

/**
 * 503: no upstream could take the request now (unreachable, overloaded, circuit open); 502: the
 * upstream answered with a failure or a broken stream. Both carry Retry-After.
 */
export class UpstreamUnavailableError extends EnclaveError {
  constructor(options: { message: string; status: 502 | 503; code: "upstream_error" | "upstream_unavailable" | "upstream_overloaded"; retryAfterSeconds: number; details?: Record<string, number | string> }) {
    super({
      message: options.message,
      status: options.status,
      type: options.status === 503 ? "overloaded" : "api_error",
      code: options.code,
      retryAfterSeconds: Math.max(1, options.retryAfterSeconds),
      details: options.details,
    });
  }
}

/** 400: the upstream refused the request itself (bad parameters, context too long). */
export class UpstreamRejectedError extends EnclaveError {
  constructor(upstream: string, upstreamStatus: number, options: { code?: string; param?: string | null } = {}) {
    super({
      message: `upstream '${upstream}' rejected the request with status ${upstreamStatus}${options.code ? ` (${options.code})` : ""}`,
      status: 400,
      type: "invalid_request_error",
      // The upstream's own code is kept only where it is one of ours: metadata holds only codes Enclave knows.
      code: options.code != null && isErrorCode(options.code) ? options.code : "upstream_rejected",
      param: options.param ?? null,
      details: { upstream, upstream_status: upstreamStatus },
    });
  }
}

/** 403: no backend serving the model is in a region this request may be processed in. */
export class ResidencyViolationRequestError extends EnclaveError {
  constructor(message: string, details: Record<string, number | string> = {}) {
    super({ message, status: 403, type: "permission_error", code: "residency_violation", param: "model", details });
  }
}
