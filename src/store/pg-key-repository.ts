import { and, asc, eq, isNull } from "drizzle-orm";
import type { PgDb, PgTx } from "../db/pg-client";
import { apiKeys } from "../db/pg-schema";
import type { ApiKeyRow } from "../db/schema";
import { changedId } from "./account-repository";
import type { KeyRepository, KeyScene, KeyTarget } from "./key-repository";
import { lockAccountTree, pgChainOf, pgVisible } from "./pg-account-repository";
import { appendPgAudit } from "./pg-audit-repository";

async function readScene(tx: PgTx, target: KeyTarget): Promise<KeyScene> {
  const { actor } = target;
  const byId = async (id: string | null | undefined) => (id == null ? null : ((await tx.select().from(apiKeys).where(eq(apiKeys.id, id)))[0] ?? null));
  const key = await byId(target.keyId);
  const caller = actor.role === "admin" ? null : await byId(actor.keyId);
  const accountId = target.accountId ?? key?.accountId;
  const [holder] =
    target.name == null || accountId == null
      ? []
      : await tx.select({ id: apiKeys.id }).from(apiKeys).where(and(eq(apiKeys.accountId, accountId), eq(apiKeys.name, target.name), isNull(apiKeys.revokedAt)));
  return {
    visible: await pgVisible(tx, actor),
    caller,
    callerChain: await pgChainOf(tx, caller?.accountId),
    key,
    chain: await pgChainOf(tx, accountId),
    nameHolder: holder?.id ?? null,
  };
}

/** The key aggregate on the shared Postgres store: each change is one transaction behind the account tree lock. */
export function createPgKeyRepository(db: PgDb): KeyRepository {
  return {
    async byId(id) {
      const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, id));
      return row;
    },
    byLookup: (lookup) => db.select().from(apiKeys).where(eq(apiKeys.lookup, lookup)),
    list: (filter) =>
      db
        .select()
        .from(apiKeys)
        .where(and(...(filter.accountId != null ? [eq(apiKeys.accountId, filter.accountId)] : []), ...(filter.includeRevoked ? [] : [isNull(apiKeys.revokedAt)])))
        .orderBy(asc(apiKeys.createdAt)),
    change: (target, decide) =>
      db.transaction(async (tx): Promise<ApiKeyRow> => {
        await lockAccountTree(tx);
        const change = decide(await readScene(tx, target));
        if ("unchanged" in change) return change.unchanged;
        const { at, write } = change;
        const [row] =
          "insert" in write
            ? await tx.insert(apiKeys).values(write.insert).returning()
            : await tx.update(apiKeys).set({ ...write.update, updatedAt: at }).where(eq(apiKeys.id, changedId(target.keyId))).returning();
        await appendPgAudit(tx, change.audit, at);
        return row!;
      }),
  };
}
