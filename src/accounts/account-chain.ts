import { eq } from "drizzle-orm";
import type { SyncDb } from "../db/sync-db";
import { accounts, type AccountRow } from "../db/schema";

/**
 * An account and every account above it, nearest first, read now (so a limit changed a moment ago
 * holds for the next request). The walk stops at a missing parent or a cycle, which the services
 * never write but a hand-edited store could hold.
 */
export function accountChain(db: SyncDb, account: AccountRow): AccountRow[] {
  const chain = [account];
  const seen = new Set([account.id]);
  for (let parentId = account.parentId; parentId != null && !seen.has(parentId); ) {
    const parent = db.select().from(accounts).where(eq(accounts.id, parentId)).get();
    if (parent == null) break;
    chain.push(parent);
    seen.add(parent.id);
    parentId = parent.parentId;
  }
  return chain;
}
