import type { SyncDb } from "../db/sync-db";
import { subtreeIds } from "../store/account-tree-sql";
import type { Actor } from "./actor";

/** An account and every account below it, deleted ones included (their usage stays visible). */
export function accountSubtree(db: SyncDb, rootId: string): string[] {
  return db.all<{ id: string }>(subtreeIds(rootId)).map((row) => row.id);
}

/** The accounts an actor may see and manage: all for an admin, its own tree for a manager, none for a user. */
export function visibleAccounts(db: SyncDb, actor: Actor): "all" | Set<string> {
  if (actor.role === "admin") return "all";
  if (actor.role === "manager" && actor.accountId != null) return new Set(accountSubtree(db, actor.accountId));
  return new Set();
}

export function canSee(visible: "all" | Set<string>, accountId: string): boolean {
  return visible === "all" || visible.has(accountId);
}
