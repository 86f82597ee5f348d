import { and, eq, isNull, sql } from "drizzle-orm";
import { visibleAccounts } from "../accounts/account-tree";
import { appendAudit } from "../audit/append-audit";
import { apiKeys, type ApiKeyRow } from "../db/schema";
import type { SyncDb } from "../db/sync-db";
import { changedId } from "./account-repository";
import type { KeyRepository, KeyScene, KeyTarget } from "./key-repository";
import { preparedOnce } from "./prepared-once";
import { sqliteChainOf } from "./sqlite-account-repository";

function readScene(tx: SyncDb, target: KeyTarget): KeyScene {
  const { actor } = target;
  const byId = (id: string | null | undefined) => (id == null ? null : (tx.select().from(apiKeys).where(eq(apiKeys.id, id)).get() ?? null));
  const key = byId(target.keyId);
  const caller = actor.role === "admin" ? null : byId(actor.keyId);
  const accountId = target.accountId ?? key?.accountId;
  const holder =
    target.name == null || accountId == null
      ? undefined
      : tx.select({ id: apiKeys.id }).from(apiKeys).where(and(eq(apiKeys.accountId, accountId), eq(apiKeys.name, target.name), isNull(apiKeys.revokedAt))).get();
  return {
    visible: visibleAccounts(tx, actor),
    caller,
    callerChain: sqliteChainOf(tx, caller?.accountId),
    key,
    chain: sqliteChainOf(tx, accountId),
    nameHolder: holder?.id ?? null,
  };
}

/** The key aggregate on the embedded SQLite store: each change is one synchronous transaction, so nothing interleaves with it. */
export function createSqliteKeyRepository(db: SyncDb): KeyRepository {
  const keysByLookup = preparedOnce(() => db.select().from(apiKeys).where(eq(apiKeys.lookup, sql.placeholder("lookup"))).prepare());
  return {
    async byId(id) {
      return db.select().from(apiKeys).where(eq(apiKeys.id, id)).get();
    },
    async byLookup(lookup) {
      return keysByLookup().all({ lookup });
    },
    async list(filter) {
      const conditions = [...(filter.accountId != null ? [eq(apiKeys.accountId, filter.accountId)] : []), ...(filter.includeRevoked ? [] : [isNull(apiKeys.revokedAt)])];
      return db
        .select()
        .from(apiKeys)
        .where(and(...conditions))
        .orderBy(apiKeys.createdAt)
        .all();
    },
    async change(target, decide) {
      return db.transaction((tx): ApiKeyRow => {
        const change = decide(readScene(tx, target));
        if ("unchanged" in change) return change.unchanged;
        const { at, write } = change;
        const row =
          "insert" in write
            ? tx.insert(apiKeys).values(write.insert).returning().get()
            : tx.update(apiKeys).set({ ...write.update, updatedAt: at }).where(eq(apiKeys.id, changedId(target.keyId))).returning().get();
        appendAudit(tx, change.audit, at);
        return row;
      });
    },
  };
}
