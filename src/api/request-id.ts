import { randomBytes } from "node:crypto";

/** Opaque, unguessable, and short enough to quote in a support ticket. */
export function createRequestId(): string {
  return `req_${randomBytes(12).toString("base64url")}`;
}
