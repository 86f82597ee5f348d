import type { ErrorCode } from "./error-codes";

/**
 * Every error a client can see is one of these: a stable `code`, the HTTP status and the OpenAI
 * error `type`. The API's single error handler turns them into `{error:{message,type,param,code}}`;
 * anything else becomes a 500 with no detail, so internal messages (which may quote input) never
 * reach a client.
 */
export type OpenAiErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "rate_limit_error"
  | "api_error"
  | "overloaded";

export class EnclaveError extends Error {
  readonly status: number;
  readonly type: OpenAiErrorType;
  readonly code: ErrorCode;
  readonly param: string | null;
  /** Extra machine-readable facts (e.g. n_prompt_tokens, n_ctx) returned beside the message. */
  readonly details: Record<string, number | string>;
  /** Seconds a client should wait before retrying; sent as Retry-After. */
  readonly retryAfterSeconds?: number;
  /**
   * The cause behind a deliberately vague answer (e.g. "revoked" behind 401 invalid_api_key), for
   * the request log and metrics only: the one error handler never serializes it.
   */
  readonly reason?: string;

  constructor(options: {
    message: string;
    status: number;
    type: OpenAiErrorType;
    code: ErrorCode;
    param?: string | null;
    details?: Record<string, number | string>;
    retryAfterSeconds?: number;
    reason?: string;
  }) {
    super(options.message);
    this.name = new.target.name;
    this.status = options.status;
    this.type = options.type;
    this.code = options.code;
    this.param = options.param ?? null;
    this.details = options.details ?? {};
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.reason = options.reason;
  }
}

export class InvalidRequestError extends EnclaveError {
  constructor(message: string, options: { param?: string | null; code?: ErrorCode; details?: Record<string, number | string> } = {}) {
    super({ message, status: 400, type: "invalid_request_error", code: options.code ?? "invalid_request", ...options });
  }
}

export class ContextLengthExceededError extends EnclaveError {
  constructor(promptTokens: number, contextSize: number) {
    super({
      message: `prompt has ${promptTokens} tokens; context size is ${contextSize}`,
      status: 400,
      type: "invalid_request_error",
      code: "context_length_exceeded",
      param: "messages",
      details: { n_prompt_tokens: promptTokens, n_ctx: contextSize },
    });
  }
}

export class ModelNotFoundError extends EnclaveError {
  constructor(model: string) {
    super({
      message: `model '${model}' does not exist`,
      status: 404,
      type: "not_found_error",
      code: "model_not_found",
      param: "model",
    });
  }
}

export class NotFoundError extends EnclaveError {
  constructor(message: string) {
    super({ message, status: 404, type: "not_found_error", code: "not_found" });
  }
}

export class PayloadTooLargeError extends EnclaveError {
  constructor(limitBytes: number, gotBytes: number) {
    super({
      message: `request body is ${gotBytes} bytes; the limit is ${limitBytes}`,
      status: 413,
      type: "invalid_request_error",
      code: "request_too_large",
      details: { limit_bytes: limitBytes, body_bytes: gotBytes },
    });
  }
}

/** The server is at capacity (queue full) or a model is still loading: retry later. */
export class OverloadedError extends EnclaveError {
  constructor(message: string, retryAfterSeconds: number, code: ErrorCode = "overloaded") {
    super({ message, status: 503, type: "overloaded", code, retryAfterSeconds });
  }
}

export class RequestTimeoutError extends EnclaveError {
  constructor(maxRequestSeconds: number) {
    super({
      message: `the request ran longer than max_request_seconds (${maxRequestSeconds} s) and was stopped`,
      status: 504,
      type: "api_error",
      code: "request_timeout",
      details: { max_request_seconds: maxRequestSeconds },
    });
  }
}

/**
 * The client went away before its answer was ready. Nobody reads the answer: the status (nginx's
 * 499) is for the request log and the metering row, so a disconnect is not counted as a fault.
 */
export class ClientClosedRequestError extends EnclaveError {
  constructor() {
    super({ message: "the client closed the request before the answer was ready", status: 499, type: "invalid_request_error", code: "client_closed_request" });
  }
}

export class EngineError extends EnclaveError {
  constructor(requestId: string) {
    super({
      message: `the inference engine failed on request ${requestId}`,
      status: 500,
      type: "api_error",
      code: "engine_error",
      details: { request_id: requestId },
    });
  }
}

/** Another writer held the store's write lock past the request's deadline: retry shortly. */
export class StoreBusyError extends EnclaveError {
  constructor() {
    super({ message: "the store is busy with another writer; retry shortly", status: 503, type: "overloaded", code: "store_busy", retryAfterSeconds: 1 });
  }
}

/**
 * The store cannot take writes (disk full, I/O error, read-only): inference is refused until a
 * write succeeds again, because a request that cannot be metered would escape budgets and credits.
 */
export class StoreUnavailableError extends EnclaveError {
  constructor() {
    super({ message: "the store cannot take writes; inference resumes when it can", status: 503, type: "api_error", code: "store_unavailable", retryAfterSeconds: 5 });
  }
}

/** Why a key was refused: in the request log only, never in the answer. */
export type AuthenticationFailure = "missing" | "invalid" | "revoked" | "expired" | "account_deleted";

/**
 * 401: the request carries no usable key. The message never quotes what was sent, and a key that
 * was revoked or expired, or whose account was deleted, answers exactly as an unknown one: telling
 * them apart would tell the holder of a leaked old key that it once worked. The real cause is in
 * `reason` (logged and counted, never serialized).
 */
export class AuthenticationError extends EnclaveError {
  readonly failure: AuthenticationFailure;
  constructor(failure: AuthenticationFailure) {
    const missing = failure === "missing";
    super({
      message: missing ? "no API key: send it as 'Authorization: Bearer <key>' (on /v1, 'x-api-key: <key>' works too)" : "invalid API key",
      status: 401,
      type: "authentication_error",
      code: missing ? "missing_api_key" : "invalid_api_key",
      reason: failure,
    });
    this.failure = failure;
  }
}

/** 403: a valid key that may not do this (a user key on /admin, a model outside its scope, another account's key). */
export class PermissionDeniedError extends EnclaveError {
  constructor(message: string, options: { code?: ErrorCode; param?: string | null } = {}) {
    super({ message, status: 403, type: "permission_error", code: options.code ?? "permission_denied", param: options.param ?? null });
  }
}
