import { and, eq, isNotNull, sql } from "drizzle-orm";
import type { SyncDb } from "../db/sync-db";
import { accounts } from "../db/schema";
import { accountChain } from "./account-chain";

/**
 * Takes a request's cost from the prepaid balance of its account and of every account above it
 * that has a wallet: a parent's credits bound its whole subtree, so spending in a sub-account
 * draws the parent's balance down too. A balance may go below zero by the last request's cost;
 * admission then refuses the next one. Call inside the metering row's transaction.
 */
export function chargeCredits(tx: SyncDb, accountId: string, costMicros: number): void {
  if (costMicros <= 0) return;
  const account = tx.select().from(accounts).where(eq(accounts.id, accountId)).get();
  if (account == null) return;
  for (const owner of accountChain(tx, account))
    if (owner.creditsMicros != null)
      tx.update(accounts)
        .set({ creditsMicros: sql`${accounts.creditsMicros} - ${costMicros}` })
        .where(and(eq(accounts.id, owner.id), isNotNull(accounts.creditsMicros)))
        .run();
}
