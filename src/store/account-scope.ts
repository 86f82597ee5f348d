import { sql, type SQL, type SQLWrapper } from "drizzle-orm";
import type { Actor } from "../accounts/actor";

/**
 * The accounts an actor may see and manage, as the repositories check it inside their own
 * transactions: every account (admin), a manager's account and those below it, or none.
 */
export type AccountScope = { kind: "all" } | { kind: "tree"; rootId: string } | { kind: "none" };

export function accountScopeOf(actor: Actor): AccountScope {
  if (actor.role === "admin") return { kind: "all" };
  if (actor.role === "manager" && actor.accountId != null) return { kind: "tree", rootId: actor.accountId };
  return { kind: "none" };
}

/**
 * Whether the account id in `column` lies in `scope` (deleted accounts included, as in
 * src/accounts/account-tree.ts). The same SQL on SQLite and Postgres.
 */
export function inAccountScope(scope: AccountScope, column: SQLWrapper): SQL {
  if (scope.kind === "all") return sql`1 = 1`;
  if (scope.kind === "none") return sql`1 = 0`;
  return sql`${column} in (
    with recursive tree(id) as (
      select id from accounts where id = ${scope.rootId}
      union
      select accounts.id from accounts join tree on accounts.parent_id = tree.id
    )
    select id from tree)`;
}
