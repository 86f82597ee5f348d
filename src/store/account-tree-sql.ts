import { sql, type Placeholder, type SQL } from "drizzle-orm";
import type { AccountRow } from "../db/schema";

/**
 * The ids of an account and of every account above it, as one recursive query both backends run.
 * `union` (not `union all`) drops a row already reached, so a cycle a hand-edited store could hold
 * ends the walk instead of looping.
 */
export function ancestorIds(accountId: string | Placeholder): SQL {
  return sql`with recursive up(id, parent_id) as (
    select id, parent_id from accounts where id = ${accountId}
    union
    select accounts.id, accounts.parent_id from accounts join up on accounts.id = up.parent_id
  ) select id from up`;
}

/** The ids of an account and of every account below it, deleted ones included; cycle-safe as above. */
export function subtreeIds(rootId: string): SQL {
  return sql`with recursive down(id) as (
    select id from accounts where id = ${rootId}
    union
    select accounts.id from accounts join down on accounts.parent_id = down.id
  ) select id from down`;
}

/**
 * `start` and the accounts above it, nearest first, out of `rows` (what ancestorIds found). The
 * walk stops at a missing parent or one already passed, which the services never write.
 */
export function walkChain(start: AccountRow, rows: readonly AccountRow[]): AccountRow[] {
  const byId = new Map(rows.map((row) => [row.id, row]));
  const chain = [start];
  const seen = new Set([start.id]);
  for (let parentId = start.parentId; parentId != null && !seen.has(parentId); ) {
    const parent = byId.get(parentId);
    if (parent == null) break;
    chain.push(parent);
    seen.add(parent.id);
    parentId = parent.parentId;
  }
  return chain;
}
