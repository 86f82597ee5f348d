import { EnclaveError } from "../errors";

/** 409: the request is well formed but clashes with what is stored (a duplicate name, an account that still has sub-accounts). */
export class ConflictError extends EnclaveError {
  constructor(message: string, param: string | null = null) {
    super({ message, status: 409, type: "invalid_request_error", code: "conflict", param });
  }
}
