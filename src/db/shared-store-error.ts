/**
 * A failure of the shared Postgres store (unreachable, refused, not empty for a copy, a copy that
 * does not check out), as one line for the operator: the endpoint without its password and the
 * server's own first line, never the SQL or its parameters.
 */
export class SharedStoreError extends Error {
  override name = "SharedStoreError";

  /** Wraps what the Postgres client or drizzle threw (drizzle puts the server's error in `cause`). */
  static of(endpoint: string, error: unknown): SharedStoreError {
    if (error instanceof SharedStoreError) return error;
    let inner = error;
    while (inner instanceof Error && inner.cause != null && inner.message.startsWith("Failed query")) inner = inner.cause;
    const line = inner instanceof Error ? (inner.message.split("\n")[0] ?? "") : String(inner);
    return new SharedStoreError(`postgres ${endpoint}: ${line.slice(0, 300)}`);
  }
}
