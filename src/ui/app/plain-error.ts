/** What an Enclave error body looks like: `{ error: { message, type, param, code } }`. */
export interface ErrorBody {
  error?: { message?: string; type?: string; param?: string | null; code?: string | null };
}

/**
 * Puts a failed API call into plain words for the page: what happened and what to do, with the
 * server's own message (which names the field and the numbers) kept when it has one.
 */
export function plainError(status: number, body: unknown, retryAfter?: string | null): string {
  const error = (body as ErrorBody | null)?.error;
  const detail = typeof error?.message === "string" && error.message !== "" ? error.message : null;
  switch (status) {
    case 0:
      return "The Enclave server could not be reached. Check that it is running and that this page was opened from it.";
    case 401:
      return "The server did not accept this API key. It may have been revoked, have expired, or be mistyped. Sign in again.";
    case 403:
      return detail != null ? `Not allowed: ${detail}.` : "This key is not allowed to do that.";
    case 404:
      return detail != null ? `Not found: ${detail}.` : "Not found.";
    case 409:
      return detail != null ? `Conflict: ${detail}.` : "That conflicts with something that already exists.";
    case 413:
      return "The request is too large for this server.";
    case 429:
      return `Too many requests for this key right now${retryAfter ? `; try again in ${retryAfter} s` : ""}.${detail != null ? ` (${detail})` : ""}`;
    case 503:
      return `The server is busy or still loading a model${retryAfter ? `; try again in ${retryAfter} s` : ""}.${detail != null ? ` (${detail})` : ""}`;
    default:
      if (status >= 400 && status < 500) return detail != null ? `The server rejected the request: ${detail}.` : `The server rejected the request (HTTP ${status}).`;
      return detail != null ? `The server failed: ${detail}.` : `The server failed (HTTP ${status}). Its log has the details under the request id.`;
  }
}
