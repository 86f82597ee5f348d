import { and, asc, eq, inArray, isNotNull, isNull, sql } from "drizzle-orm";
import type { Actor } from "../accounts/actor";
import type { PgDb, PgTx } from "../db/pg-client";
import { accounts, apiKeys } from "../db/pg-schema";
import type { AccountRow } from "../db/schema";
import { changedId, type AccountChange, type AccountRepository, type AccountScene, type AccountTarget } from "./account-repository";
import { ancestorIds, subtreeIds, walkChain } from "./account-tree-sql";
import { appendPgAudit } from "./pg-audit-repository";

/** The handle or a transaction on it. */
export type PgReader = PgDb | PgTx;

/** Every change to accounts or keys, on every node, takes this transaction-scoped lock first (any fixed bigint but the audit chain's). */
const ACCOUNT_TREE_LOCK = sql.raw("7305676930138464003");

/**
 * Queues the changes to accounts and keys behind each other, as SQLite's one writer does: a
 * decision reads the tree (names, regions, limits above and below) after the change before it
 * committed. Taken before the audit chain lock, always in that order.
 */
export async function lockAccountTree(tx: PgTx): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${ACCOUNT_TREE_LOCK})`);
}

/** An account (deleted or not) and those above it, nearest first, in one round trip; empty when there is none. */
export async function pgChainOf(db: PgReader, id: string | null | undefined): Promise<AccountRow[]> {
  if (id == null) return [];
  const rows = await db.select().from(accounts).where(sql`${accounts.id} in (${ancestorIds(id)})`);
  const start = rows.find((row) => row.id === id);
  return start == null ? [] : walkChain(start, rows);
}

export async function pgSubtree(db: PgReader, rootId: string): Promise<string[]> {
  const rows = await db.execute<{ id: string }>(subtreeIds(rootId));
  return rows.map((row) => row.id);
}

export async function pgVisible(db: PgReader, actor: Actor): Promise<"all" | Set<string>> {
  if (actor.role === "admin") return "all";
  if (actor.role === "manager" && actor.accountId != null) return new Set(await pgSubtree(db, actor.accountId));
  return new Set();
}

async function below(tx: PgTx, id: string): Promise<NonNullable<AccountScene["below"]>> {
  const subtree = await pgSubtree(tx, id);
  const under = subtree.filter((each) => each !== id);
  const [liveChild] = await tx.select({ id: accounts.id }).from(accounts).where(and(eq(accounts.parentId, id), isNull(accounts.deletedAt))).limit(1);
  const subAccounts = await tx
    .select({ id: accounts.id, regions: accounts.allowedRegions })
    .from(accounts)
    .where(and(inArray(accounts.id, under), isNull(accounts.deletedAt), isNotNull(accounts.allowedRegions)));
  const liveKeys = await tx
    .select({ id: apiKeys.id, regions: apiKeys.allowedRegions })
    .from(apiKeys)
    .where(and(inArray(apiKeys.accountId, subtree), isNull(apiKeys.revokedAt), isNotNull(apiKeys.allowedRegions)));
  return {
    subtree,
    liveChild: liveChild?.id ?? null,
    regionLists: [
      ...subAccounts.map((row) => ({ what: `sub-account '${row.id}'`, regions: row.regions ?? [] })),
      ...liveKeys.map((row) => ({ what: `key '${row.id}'`, regions: row.regions ?? [] })),
    ],
  };
}

async function readScene(tx: PgTx, target: AccountTarget): Promise<AccountScene> {
  const { actor } = target;
  const chain = await pgChainOf(tx, target.accountId);
  const [holder] = target.name == null ? [] : await tx.select({ id: accounts.id }).from(accounts).where(and(eq(accounts.name, target.name), isNull(accounts.deletedAt)));
  return {
    visible: await pgVisible(tx, actor),
    own: actor.role === "admin" ? [] : await pgChainOf(tx, actor.accountId),
    chain,
    nameHolder: holder?.id ?? null,
    below: target.below && chain[0] != null ? await below(tx, chain[0].id) : null,
  };
}

async function write(tx: PgTx, target: AccountTarget, { at, write }: AccountChange): Promise<AccountRow> {
  const one = (rows: AccountRow[]) => rows[0]!;
  if ("insert" in write) return one(await tx.insert(accounts).values(write.insert).returning());
  const id = changedId(target.accountId);
  if ("delete" in write) {
    await tx.update(apiKeys).set({ revokedAt: at, updatedAt: at }).where(and(eq(apiKeys.accountId, id), isNull(apiKeys.revokedAt)));
    return one(await tx.update(accounts).set({ deletedAt: at, updatedAt: at }).where(eq(accounts.id, id)).returning());
  }
  // A credit adds in SQL under the row's lock: a usage charge committing meanwhile is kept.
  const fields = "update" in write ? write.update : { creditsMicros: sql`coalesce(${accounts.creditsMicros}, 0) + ${write.credit}` };
  return one(await tx.update(accounts).set({ ...fields, updatedAt: at }).where(eq(accounts.id, id)).returning());
}

/** The account aggregate on the shared Postgres store: each change is one transaction behind the account tree lock. */
export function createPgAccountRepository(db: PgDb): AccountRepository {
  const live = (...conditions: Parameters<typeof and>) => db.select().from(accounts).where(and(isNull(accounts.deletedAt), ...conditions));
  return {
    async byId(id) {
      const [row] = await db.select().from(accounts).where(eq(accounts.id, id));
      return row;
    },
    async liveById(id) {
      const [row] = await live(eq(accounts.id, id));
      return row;
    },
    async liveByName(name) {
      const [row] = await live(eq(accounts.name, name));
      return row;
    },
    listLive: () => live().orderBy(asc(accounts.createdAt)),
    async chain(account) {
      return account.parentId == null ? [account] : walkChain(account, await pgChainOf(db, account.parentId));
    },
    subtree: (rootId) => pgSubtree(db, rootId),
    visible: (actor) => pgVisible(db, actor),
    change: (target, decide) =>
      db.transaction(async (tx) => {
        await lockAccountTree(tx);
        const change = decide(await readScene(tx, target));
        const row = await write(tx, target, change);
        await appendPgAudit(tx, change.audit(row), change.at);
        return row;
      }),
  };
}
