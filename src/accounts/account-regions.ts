import type { AccountRow } from "../db/schema";
import { intersectRegions } from "../residency/region-scope";

/**
 * The regions an account's requests may be processed in, from its chain (the account and every
 * account above it): its own `allowed_regions` narrowed by each above it, so a manager cannot widen
 * what its own account was given by creating a sub-account. null when no account on the chain has a list.
 */
export function accountRegions(chain: readonly Pick<AccountRow, "allowedRegions">[]): string[] | null {
  return chain.reduce<string[] | null>((regions, account) => intersectRegions(regions, account.allowedRegions), null);
}
