import { sql } from "drizzle-orm";
import type { SyncDb } from "../db/sync-db";
import { intersectRegions } from "../residency/region-scope";

/**
 * The regions an account's requests may be processed in: its own `allowed_regions` narrowed by
 * every account above it, so a manager cannot widen what its own account was given by creating a
 * sub-account. null when no account on the way to the root has a list.
 */
export function accountRegions(db: SyncDb, accountId: string): string[] | null {
  const rows = db.all<{ allowed_regions: string | null }>(sql`
    with recursive chain(id, parent_id, allowed_regions) as (
      select id, parent_id, allowed_regions from accounts where id = ${accountId}
      union
      select accounts.id, accounts.parent_id, accounts.allowed_regions from accounts join chain on accounts.id = chain.parent_id
    )
    select allowed_regions from chain`);
  return rows.reduce<string[] | null>((regions, row) => intersectRegions(regions, row.allowed_regions == null ? null : (JSON.parse(row.allowed_regions) as string[])), null);
}
