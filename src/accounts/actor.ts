import type { ApiKeyRow } from "../db/schema";

export type Role = ApiKeyRow["role"];
export const ROLES = ["admin", "manager", "user"] as const satisfies readonly Role[];

/** Who performs an admin action: a key through the API, or the local CLI (which acts as admin). */
export interface Actor {
  /** As written to the audit log: "key:<id>" or "cli:<user>". */
  id: string;
  role: Role;
  /** The acting key's account; null for the CLI. */
  accountId: string | null;
  keyId: string | null;
}

export function keyActor(key: Pick<ApiKeyRow, "id" | "role" | "accountId">): Actor {
  return { id: `key:${key.id}`, role: key.role, accountId: key.accountId, keyId: key.id };
}

/** The CLI works on the store directly, as whoever may read the data dir: an admin. */
export function cliActor(user: string): Actor {
  return { id: `cli:${user}`, role: "admin", accountId: null, keyId: null };
}
