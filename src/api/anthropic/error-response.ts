import type { EnclaveError } from "../../errors";

export type AnthropicErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "request_too_large"
  | "rate_limit_error"
  | "api_error"
  | "overloaded_error";

/** Anthropic's status for ours: only "overloaded" differs (Anthropic answers 529, we 503). */
export function anthropicStatus(error: EnclaveError): number {
  return error.type === "overloaded" ? 529 : error.status;
}

export function anthropicErrorType(error: EnclaveError): AnthropicErrorType {
  if (error.type === "overloaded") return "overloaded_error";
  if (error.status === 413) return "request_too_large";
  switch (error.type) {
    case "invalid_request_error":
    case "authentication_error":
    case "permission_error":
    case "not_found_error":
    case "rate_limit_error":
      return error.type;
    default:
      return "api_error";
  }
}

/** Anthropic's error object: `{type:"error", error:{type, message}, request_id}`. */
export function anthropicErrorBody(error: EnclaveError, requestId?: string) {
  return {
    type: "error" as const,
    error: { type: anthropicErrorType(error), message: error.message },
    ...(requestId != null && { request_id: requestId }),
  };
}

/**
 * The error answer on the Anthropic paths, in Anthropic's wire shape and status codes; Retry-After
 * as Enclave gives it, and the request id as both `request-id` (Anthropic's SDKs read it) and
 * `x-request-id` (as every Enclave answer).
 */
export function anthropicErrorResponse(error: EnclaveError, requestId?: string): Response {
  const headers = new Headers({ "content-type": "application/json" });
  if (error.retryAfterSeconds != null) headers.set("retry-after", String(Math.max(1, Math.ceil(error.retryAfterSeconds))));
  if (requestId != null) {
    headers.set("x-request-id", requestId);
    headers.set("request-id", requestId);
  }
  // Which of Enclave's stable codes this was, for the metering row and operators; Anthropic's body has no field for it.
  headers.set("x-enclave-error-code", error.code);
  return new Response(JSON.stringify(anthropicErrorBody(error, requestId)), { status: anthropicStatus(error), headers });
}

/** The paths that answer in Anthropic's shapes: `/v1/messages` and everything below it. */
export function isAnthropicPath(url: string): boolean {
  const path = URL.parse(url.startsWith("/") ? `http://localhost${url}` : url)?.pathname ?? "";
  return path === "/v1/messages" || path.startsWith("/v1/messages/");
}
