import { EnclaveError } from "../errors";

export type AuthenticationFailure = "missing" | "invalid" | "revoked" | "expired";

const messages: Record<AuthenticationFailure, string> = {
  missing: "no API key: send it as 'Authorization: Bearer <key>'",
  invalid: "invalid API key",
  revoked: "this API key has been revoked",
  expired: "this API key has expired",
};

/** 401: the request carries no usable key. The message never quotes what was sent. */
export class AuthenticationError extends EnclaveError {
  readonly failure: AuthenticationFailure;
  constructor(failure: AuthenticationFailure) {
    super({ message: messages[failure], status: 401, type: "authentication_error", code: failure === "missing" ? "missing_api_key" : `${failure}_api_key` });
    this.failure = failure;
  }
}

/** 403: a valid key that may not do this (a user key on /admin, a model outside its scope, another account's key). */
export class PermissionDeniedError extends EnclaveError {
  constructor(message: string, options: { code?: string; param?: string | null } = {}) {
    super({ message, status: 403, type: "permission_error", code: options.code ?? "permission_denied", param: options.param ?? null });
  }
}
