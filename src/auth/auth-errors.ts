import type { ErrorCode } from "../error-codes";
import { EnclaveError } from "../errors";

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
      message: missing ? "no API key: send it as 'Authorization: Bearer <key>'" : "invalid API key",
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
