import { and, eq, inArray, isNotNull, isNull, sql } from "drizzle-orm";
import { accountSubtree, visibleAccounts } from "../accounts/account-tree";
import { appendAudit } from "../audit/append-audit";
import { accounts, apiKeys, type AccountRow } from "../db/schema";
import type { SyncDb } from "../db/sync-db";
import { ancestorIds, walkChain } from "./account-tree-sql";
import { preparedOnce } from "./prepared-once";
import { changedId, type AccountChange, type AccountRepository, type AccountScene, type AccountTarget } from "./account-repository";

/** An account (deleted or not) and those above it, nearest first, in one query; empty when there is none. */
export function sqliteChainOf(db: SyncDb, id: string | null | undefined): AccountRow[] {
  if (id == null) return [];
  const rows = db.select().from(accounts).where(sql`${accounts.id} in (${ancestorIds(id)})`).all();
  const start = rows.find((row) => row.id === id);
  return start == null ? [] : walkChain(start, rows);
}

function below(tx: SyncDb, id: string): NonNullable<AccountScene["below"]> {
  const subtree = accountSubtree(tx, id);
  const under = subtree.filter((each) => each !== id);
  const liveChild = tx.select({ id: accounts.id }).from(accounts).where(and(eq(accounts.parentId, id), isNull(accounts.deletedAt))).get();
  const subAccounts = tx
    .select({ id: accounts.id, regions: accounts.allowedRegions })
    .from(accounts)
    .where(and(inArray(accounts.id, under), isNull(accounts.deletedAt), isNotNull(accounts.allowedRegions)))
    .all();
  const liveKeys = tx
    .select({ id: apiKeys.id, regions: apiKeys.allowedRegions })
    .from(apiKeys)
    .where(and(inArray(apiKeys.accountId, subtree), isNull(apiKeys.revokedAt), isNotNull(apiKeys.allowedRegions)))
    .all();
  return {
    subtree,
    liveChild: liveChild?.id ?? null,
    regionLists: [
      ...subAccounts.map((row) => ({ what: `sub-account '${row.id}'`, regions: row.regions ?? [] })),
      ...liveKeys.map((row) => ({ what: `key '${row.id}'`, regions: row.regions ?? [] })),
    ],
  };
}

function readScene(tx: SyncDb, target: AccountTarget): AccountScene {
  const { actor } = target;
  const chain = sqliteChainOf(tx, target.accountId);
  const holder = target.name == null ? undefined : tx.select({ id: accounts.id }).from(accounts).where(and(eq(accounts.name, target.name), isNull(accounts.deletedAt))).get();
  return {
    visible: visibleAccounts(tx, actor),
    own: actor.role === "admin" ? [] : sqliteChainOf(tx, actor.accountId),
    chain,
    nameHolder: holder?.id ?? null,
    below: target.below && chain[0] != null ? below(tx, chain[0].id) : null,
  };
}

function write(tx: SyncDb, target: AccountTarget, { at, write }: AccountChange): AccountRow {
  if ("insert" in write) return tx.insert(accounts).values(write.insert).returning().get();
  const id = changedId(target.accountId);
  if ("delete" in write) {
    tx.update(apiKeys).set({ revokedAt: at, updatedAt: at }).where(and(eq(apiKeys.accountId, id), isNull(apiKeys.revokedAt))).run();
    return tx.update(accounts).set({ deletedAt: at, updatedAt: at }).where(eq(accounts.id, id)).returning().get();
  }
  const fields = "update" in write ? write.update : { creditsMicros: sql`coalesce(${accounts.creditsMicros}, 0) + ${write.credit}` };
  return tx.update(accounts).set({ ...fields, updatedAt: at }).where(eq(accounts.id, id)).returning().get();
}

/** The account aggregate on the embedded SQLite store: each change is one synchronous transaction, so nothing interleaves with it. */
export function createSqliteAccountRepository(db: SyncDb): AccountRepository {
  const live = (...conditions: Parameters<typeof and>) => db.select().from(accounts).where(and(isNull(accounts.deletedAt), ...conditions));
  const accountById = preparedOnce(() => db.select().from(accounts).where(eq(accounts.id, sql.placeholder("id"))).prepare());
  return {
    async byId(id) {
      return accountById().get({ id });
    },
    async liveById(id) {
      return live(eq(accounts.id, id)).get();
    },
    async liveByName(name) {
      return live(eq(accounts.name, name)).get();
    },
    async listLive() {
      return live().orderBy(accounts.createdAt).all();
    },
    async chain(account) {
      return account.parentId == null ? [account] : walkChain(account, sqliteChainOf(db, account.parentId));
    },
    async subtree(rootId) {
      return accountSubtree(db, rootId);
    },
    async visible(actor) {
      return visibleAccounts(db, actor);
    },
    async change(target, decide) {
      return db.transaction((tx) => {
        const change = decide(readScene(tx, target));
        const row = write(tx, target, change);
        appendAudit(tx, change.audit(row), change.at);
        return row;
      });
    },
  };
}
