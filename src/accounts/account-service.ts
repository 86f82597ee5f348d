import { and, eq, inArray, isNotNull, isNull } from "drizzle-orm";
import { newId } from "../db/random-base62";
import { appendAudit } from "../audit/append-audit";
import type { SyncDb } from "../db/sync-db";
import { accounts, apiKeys, type AccountRow } from "../db/schema";
import { InvalidRequestError, NotFoundError, PermissionDeniedError } from "../errors";
import { assertRegionsWithin } from "../residency/region-scope";
import type { CreateAccountInput, UpdateAccountInput } from "./account-input";
import { configSchema, type Config } from "../config/schema";
import { accountChain } from "./account-chain";
import { accountRegions } from "./account-regions";
import { assertBudgetWithin, exceedsCaller } from "./caller-bound";
import { accountSubtree, canSee, visibleAccounts } from "./account-tree";
import type { Actor } from "./actor";
import { ConflictError } from "./conflict-error";
import { toMicros } from "./limits-input";

export const DEFAULT_ACCOUNT_NAME = "default";

export interface AccountServiceDeps {
  db: SyncDb;
  now?: () => number;
  /** The regions `[residency]` allows (effectiveRegions); an account's allowed_regions must lie within them. null: not restricted. */
  installationRegions?: readonly string[] | null;
  /** `[limits]`: what an account's null concurrency means when bounding what a manager grants; default the built-in default. */
  limits?: Pick<Config["limits"], "account_concurrency">;
}

const DEFAULT_LIMITS = configSchema.parse({}).limits;

/**
 * Accounts: create, list, get, update, delete, top up credits. Every method takes the acting
 * Actor and enforces what it may touch (an admin everything; a manager its own tree, and only
 * strictly below its own account for changes); every change and its audit entry are written in
 * one transaction. A manager cannot give an account limits beyond what its own account holds:
 * an explicit concurrency no higher than the lowest on its own account's chain (or the
 * [limits] account_concurrency default when none is set), an explicit budget within each budget on
 * that chain (assertBudgetWithin). Unset is fine: admission bounds a subtree by every account
 * above it anyway.
 */
export function createAccountService(deps: AccountServiceDeps) {
  const { db } = deps;
  const now = () => new Date((deps.now ?? Date.now)());

  function requireManager(actor: Actor) {
    if (actor.role === "user") throw new PermissionDeniedError("this key may not manage accounts; it needs the admin or manager role");
  }

  function find(tx: SyncDb, actor: Actor, id: string): AccountRow {
    const row = tx.select().from(accounts).where(and(eq(accounts.id, id), isNull(accounts.deletedAt))).get();
    if (row == null || !canSee(visibleAccounts(tx, actor), row.id)) throw new NotFoundError(`no account '${id}'`);
    return row;
  }

  /** Managers change accounts strictly below their own; their own account's limits are set above them. */
  function findChangeable(tx: SyncDb, actor: Actor, id: string): AccountRow {
    const row = find(tx, actor, id);
    if (actor.role !== "admin" && row.id === actor.accountId)
      throw new PermissionDeniedError("a manager key may not change its own account; ask an admin or the manager above it");
    return row;
  }

  function assertNameFree(tx: SyncDb, name: string, exceptId?: string) {
    const clash = tx.select({ id: accounts.id }).from(accounts).where(and(eq(accounts.name, name), isNull(accounts.deletedAt))).get();
    if (clash != null && clash.id !== exceptId) throw new ConflictError(`an account named '${name}' already exists`, "name");
  }

  /** 403 exceeds_caller_limit when a non-admin sets a limit beyond its own account's chain. */
  function checkWithinCaller(tx: SyncDb, actor: Actor, row: Pick<AccountRow, "concurrency" | "budgetPeriod" | "budgetTokens" | "budgetCostMicros">) {
    if (actor.role === "admin") return;
    const own = actor.accountId == null ? undefined : tx.select().from(accounts).where(eq(accounts.id, actor.accountId)).get();
    if (own == null) throw new PermissionDeniedError("this key may not manage accounts; it needs the admin or manager role");
    const chain = accountChain(tx, own);
    const whose = `the calling key's account '${own.id}'`;
    if (row.concurrency != null) {
      const explicit = chain.map((owner) => owner.concurrency).filter((value): value is number => value != null);
      const fallback = (deps.limits ?? DEFAULT_LIMITS).account_concurrency;
      const bound = explicit.length > 0 ? Math.min(...explicit) : fallback === 0 ? Number.POSITIVE_INFINITY : fallback;
      if (row.concurrency > bound) throw exceedsCaller("concurrency", `${whose} may run ${bound} at once; set concurrency to at most that`);
    }
    if (row.budgetPeriod == null) return;
    for (const owner of chain)
      assertBudgetWithin(row, { ...owner, budgetTokens: row.budgetTokens == null ? null : owner.budgetTokens, budgetCostMicros: row.budgetCostMicros == null ? null : owner.budgetCostMicros }, whose);
  }

  function checkBudget(row: Pick<AccountRow, "budgetPeriod" | "budgetTokens" | "budgetCostMicros">) {
    if (row.budgetPeriod == null && (row.budgetTokens != null || row.budgetCostMicros != null))
      throw new InvalidRequestError("a budget needs budget_period ('day' or 'month')", { param: "budget_period" });
  }

  /**
   * An account's own allowed_regions must lie within [residency] and within what its parent may
   * use; when it narrows, every list below it (sub-accounts, live keys) must still lie within it.
   */
  function checkRegions(tx: SyncDb, account: Pick<AccountRow, "id" | "parentId">, regions: string[] | null | undefined) {
    if (regions == null) return;
    assertRegionsWithin(regions, deps.installationRegions ?? null, "this installation's allowed regions ([residency])");
    if (account.parentId != null) assertRegionsWithin(regions, accountRegions(tx, account.parentId), `the allowed regions of parent account '${account.parentId}'`);
    const below = accountSubtree(tx, account.id).filter((id) => id !== account.id);
    const subAccounts = tx
      .select({ id: accounts.id, regions: accounts.allowedRegions })
      .from(accounts)
      .where(and(inArray(accounts.id, below), isNull(accounts.deletedAt), isNotNull(accounts.allowedRegions)))
      .all();
    const liveKeys = tx
      .select({ id: apiKeys.id, regions: apiKeys.allowedRegions })
      .from(apiKeys)
      .where(and(inArray(apiKeys.accountId, [account.id, ...below]), isNull(apiKeys.revokedAt), isNotNull(apiKeys.allowedRegions)))
      .all();
    const lists = [
      ...subAccounts.map((row) => ({ what: `sub-account '${row.id}'`, regions: row.regions })),
      ...liveKeys.map((row) => ({ what: `key '${row.id}'`, regions: row.regions })),
    ];
    for (const { what, regions: theirs } of lists) {
      const outside = theirs?.find((region) => !regions.includes(region));
      if (outside !== undefined)
        throw new InvalidRequestError(`allowed_regions: ${what} allows region '${outside}', which this list leaves out; narrow or clear its allowed_regions first`, {
          param: "allowed_regions",
          code: "region_not_allowed",
        });
    }
  }

  function limitFields(input: CreateAccountInput | UpdateAccountInput) {
    return {
      ...(input.allowed_regions !== undefined && { allowedRegions: input.allowed_regions == null ? null : [...new Set(input.allowed_regions)] }),
      ...(input.concurrency !== undefined && { concurrency: input.concurrency }),
      ...(input.budget_period !== undefined && { budgetPeriod: input.budget_period }),
      ...(input.budget_tokens !== undefined && { budgetTokens: input.budget_tokens }),
      ...(input.budget_cost !== undefined && { budgetCostMicros: toMicros(input.budget_cost) }),
    };
  }

  const service = {
    create(actor: Actor, input: CreateAccountInput): AccountRow {
      requireManager(actor);
      return db.transaction((tx) => {
        const parentId = input.parent_id ?? actor.accountId ?? null;
        if (parentId != null) {
          try {
            find(tx, actor, parentId);
          } catch (error) {
            if (error instanceof NotFoundError) throw new NotFoundError(`no account '${parentId}' (parent_id)`);
            throw error;
          }
        } else if (actor.role !== "admin") throw new PermissionDeniedError("only an admin may create a top-level account");
        assertNameFree(tx, input.name);
        const at = now();
        const row: AccountRow = {
          id: newId("acct"),
          name: input.name,
          parentId,
          concurrency: null,
          budgetPeriod: null,
          budgetTokens: null,
          budgetCostMicros: null,
          creditsMicros: null,
          allowedRegions: null,
          createdAt: at,
          updatedAt: at,
          deletedAt: null,
          ...limitFields(input),
        };
        checkBudget(row);
        checkWithinCaller(tx, actor, row);
        checkRegions(tx, row, row.allowedRegions);
        tx.insert(accounts).values(row).run();
        appendAudit(tx, { actor: actor.id, action: "account.create", target: row.id, details: { name: row.name, parent_id: parentId, ...limitFields(input) } }, at);
        return row;
      });
    },

    list(actor: Actor): AccountRow[] {
      requireManager(actor);
      const visible = visibleAccounts(db, actor);
      return db
        .select()
        .from(accounts)
        .where(isNull(accounts.deletedAt))
        .orderBy(accounts.createdAt)
        .all()
        .filter((row) => canSee(visible, row.id));
    },

    get(actor: Actor, id: string): AccountRow {
      requireManager(actor);
      return find(db, actor, id);
    },

    update(actor: Actor, id: string, input: UpdateAccountInput): AccountRow {
      requireManager(actor);
      return db.transaction((tx) => {
        const row = findChangeable(tx, actor, id);
        if (input.name !== undefined) assertNameFree(tx, input.name, row.id);
        const at = now();
        const changes = { ...(input.name !== undefined && { name: input.name }), ...limitFields(input) };
        const next: AccountRow = { ...row, ...changes, updatedAt: at };
        checkBudget(next);
        // Only what this change sets is bounded: a limit an admin set earlier stays as it is.
        const budgetTouched = changes.budgetPeriod !== undefined || changes.budgetTokens !== undefined || changes.budgetCostMicros !== undefined;
        checkWithinCaller(tx, actor, {
          concurrency: changes.concurrency === undefined ? null : next.concurrency,
          budgetPeriod: budgetTouched ? next.budgetPeriod : null,
          budgetTokens: next.budgetTokens,
          budgetCostMicros: next.budgetCostMicros,
        });
        if (changes.allowedRegions !== undefined) checkRegions(tx, row, changes.allowedRegions);
        tx.update(accounts).set({ ...changes, updatedAt: at }).where(eq(accounts.id, row.id)).run();
        appendAudit(tx, { actor: actor.id, action: "account.update", target: row.id, details: changes }, at);
        return next;
      });
    },

    /** Marks the account deleted and revokes its keys; refused while it has live sub-accounts. */
    delete(actor: Actor, id: string): AccountRow {
      requireManager(actor);
      return db.transaction((tx) => {
        const row = findChangeable(tx, actor, id);
        if (actor.accountId != null && accountSubtree(tx, row.id).includes(actor.accountId))
          throw new ConflictError("the account holding the key making this request cannot be deleted");
        const child = tx.select({ id: accounts.id }).from(accounts).where(and(eq(accounts.parentId, row.id), isNull(accounts.deletedAt))).get();
        if (child != null) throw new ConflictError(`account '${row.id}' still has sub-accounts (e.g. '${child.id}'); delete them first`);
        const at = now();
        tx.update(apiKeys).set({ revokedAt: at, updatedAt: at }).where(and(eq(apiKeys.accountId, row.id), isNull(apiKeys.revokedAt))).run();
        tx.update(accounts).set({ deletedAt: at, updatedAt: at }).where(eq(accounts.id, row.id)).run();
        appendAudit(tx, { actor: actor.id, action: "account.delete", target: row.id, details: { name: row.name } }, at);
        return { ...row, deletedAt: at, updatedAt: at };
      });
    },

    /** Adds to the prepaid balance (admins only: managers must not mint money for their own tree). */
    addCredits(actor: Actor, id: string, amount: number): AccountRow {
      if (actor.role !== "admin") throw new PermissionDeniedError("only an admin may add credits");
      return db.transaction((tx) => {
        const row = find(tx, actor, id);
        const added = toMicros(amount) ?? 0;
        const at = now();
        const creditsMicros = (row.creditsMicros ?? 0) + added;
        tx.update(accounts).set({ creditsMicros, updatedAt: at }).where(eq(accounts.id, row.id)).run();
        appendAudit(tx, { actor: actor.id, action: "account.credits", target: row.id, details: { added_micros: added, balance_micros: creditsMicros } }, at);
        return { ...row, creditsMicros, updatedAt: at };
      });
    },

    /** The account the CLI puts keys in when none is named; created on first use. */
    ensureDefault(actor: Actor): AccountRow {
      const existing = db.select().from(accounts).where(and(eq(accounts.name, DEFAULT_ACCOUNT_NAME), isNull(accounts.deletedAt))).get();
      return existing ?? service.create(actor, { name: DEFAULT_ACCOUNT_NAME });
    },

    /** Resolves an id or a live account's name (for the CLI). */
    resolve(actor: Actor, idOrName: string): AccountRow {
      const byName = db.select().from(accounts).where(and(eq(accounts.name, idOrName), isNull(accounts.deletedAt))).get();
      return find(db, actor, byName?.id ?? idOrName);
    },
  };
  return service;
}

export type AccountService = ReturnType<typeof createAccountService>;
