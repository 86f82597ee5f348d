/**
 * Every `error.code` Enclave answers with: a client, a metering row, a log line or a metrics label
 * sees one of these and nothing else (an upstream's own code is mapped onto them). The 429 codes
 * are listed apart because metrics group them by limit.
 */
export const RATE_LIMIT_CODES = [
  "concurrency_queue_full",
  "concurrency_wait_exceeded",
  "rate_limit_requests",
  "rate_limit_tokens",
  "budget_exceeded",
  "insufficient_quota",
] as const;
export type RateLimitCode = (typeof RATE_LIMIT_CODES)[number];

export const ERROR_CODES = [
  ...RATE_LIMIT_CODES,
  // 400
  "invalid_request",
  "invalid_json",
  "invalid_body",
  "invalid_path",
  "invalid_request_target",
  "invalid_type",
  "invalid_value",
  "missing_required_parameter",
  "unsupported_value",
  "too_big",
  "context_length_exceeded",
  "override_not_stricter",
  "storage_disabled",
  // 401, 403
  "missing_api_key",
  "invalid_api_key",
  "permission_denied",
  "model_not_allowed",
  "ip_not_allowed",
  "region_not_allowed",
  "residency_violation",
  // 404, 405, 409, 413
  "not_found",
  "model_not_found",
  "previous_response_not_found",
  "method_not_allowed",
  "conflict",
  "exceeds_caller_limit",
  "request_too_large",
  "client_closed_request",
  // 5xx
  "internal_error",
  "engine_error",
  "request_timeout",
  "overloaded",
  "model_loading",
  "queue_full",
  "shutting_down",
  "store_busy",
  "store_unavailable",
  "retention_key_missing",
  "retention_key_invalid",
  "upstream_error",
  "upstream_unavailable",
  "upstream_overloaded",
  "upstream_rejected",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

const known = new Set<string>(ERROR_CODES);
export const isErrorCode = (code: string): code is ErrorCode => known.has(code);
