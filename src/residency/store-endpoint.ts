import type { Config } from "../config/schema";
import { redactDatabaseUrl } from "../db/pg-client";
import { isLoopback } from "../net/is-loopback";

/** Where the store lives, as residency sees it: a file in the data dir, or a Postgres server. */
export type StoreEndpoint =
  | { kind: "sqlite" }
  | {
      kind: "postgres";
      /** The URL without its password. */
      endpoint: string;
      /** Host name the client connects to; null for a unix socket (this machine). */
      host: string | null;
      /** Whether the server is on this machine (loopback or a unix socket). */
      local: boolean;
    };

/**
 * The store endpoint of `[storage]`. A URL whose host is empty, or that names a socket directory
 * (`?host=/run/postgresql`), connects through a unix socket on this machine.
 */
export function storeEndpoint(storage: Pick<Config["storage"], "database_url">): StoreEndpoint {
  if (storage.database_url === "") return { kind: "sqlite" };
  const endpoint = redactDatabaseUrl(storage.database_url);
  // Read before URL parsing: `postgres://user@/db?host=/run/postgresql` has an empty host, which WHATWG URLs refuse.
  const query = storage.database_url.split("?")[1] ?? "";
  if (new URLSearchParams(query).get("host")?.startsWith("/")) return { kind: "postgres", endpoint, host: null, local: true };
  let host: string | null;
  try {
    host = new URL(storage.database_url).hostname.replace(/^\[|\]$/g, "") || null;
  } catch {
    // An unparsable URL fails where the client opens it; treated as remote so no rule waves it through.
    return { kind: "postgres", endpoint, host: "(unparsable)", local: false };
  }
  return { kind: "postgres", endpoint, host, local: host == null || isLoopback(host) };
}
