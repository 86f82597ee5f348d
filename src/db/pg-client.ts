import { SQL } from "bun";
import { drizzle } from "drizzle-orm/bun-sql";
import * as schema from "./pg-schema";

export type PgDb = ReturnType<typeof drizzle<typeof schema>>;
/** The Postgres handle or a transaction on it: what the Postgres repositories accept. */
export type PgTx = Parameters<Parameters<PgDb["transaction"]>[0]>[0];

export interface PgStore extends AsyncDisposable {
  readonly db: PgDb;
  /** The URL without its password: what messages and `config print` may show. */
  readonly endpoint: string;
}

/** The URL with any password replaced, so no message or log carries the secret. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparsable database URL)";
  }
}

/**
 * Connects to the shared Postgres store with Bun's built-in client (a pool; connections are made
 * on first use). Nothing is created here: `migratePg` applies the schema.
 */
export function openPgStore(url: string, options: { max?: number } = {}): PgStore {
  const client = new SQL({ url, max: options.max ?? 10, idleTimeout: 30, connectionTimeout: 10 });
  const db = drizzle({ client, schema });
  let closed = false;
  return {
    db,
    endpoint: redactDatabaseUrl(url),
    async [Symbol.asyncDispose]() {
      if (closed) return;
      closed = true;
      await client.close();
    },
  };
}
