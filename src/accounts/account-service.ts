import { configSchema, type Config } from "../config/schema";
import { newId } from "../db/random-base62";
import type { AccountRow } from "../db/schema";
import { InvalidRequestError, NotFoundError, PermissionDeniedError } from "../errors";
import { assertRegionsWithin } from "../residency/region-scope";
import type { AccountRepository, AccountScene, RegionList } from "../store/account-repository";
import type { CreateAccountInput, UpdateAccountInput } from "./account-input";
import { accountRegions } from "./account-regions";
import { canSee } from "./account-tree";
import type { Actor } from "./actor";
import { assertBudgetWithin, exceedsCaller } from "./caller-bound";
import { ConflictError } from "./conflict-error";
import { toMicros } from "./limits-input";

export const DEFAULT_ACCOUNT_NAME = "default";

export interface AccountServiceDeps {
  accounts: AccountRepository;
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
 * strictly below its own account for changes). Every change is checked against what the
 * repository read inside the change's transaction and written there with its audit entry, so a
 * concurrent change (another node's included) cannot slip between the check and the write. A manager cannot give an account limits beyond what its own account holds:
 * an explicit concurrency no higher than the lowest on its own account's chain (or the
 * [limits] account_concurrency default when none is set), an explicit budget within each budget on
 * that chain (assertBudgetWithin). Unset is fine: admission bounds a subtree by every account
 * above it anyway.
 */
export function createAccountService(deps: AccountServiceDeps) {
  const { accounts } = deps;
  const now = () => new Date((deps.now ?? Date.now)());

  function requireManager(actor: Actor) {
    if (actor.role === "user") throw new PermissionDeniedError("this key may not manage accounts; it needs the admin or manager role");
  }

  function visibleLive(row: AccountRow | null | undefined, visible: "all" | Set<string>, id: string): AccountRow {
    if (row == null || row.deletedAt != null || !canSee(visible, row.id)) throw new NotFoundError(`no account '${id}'`);
    return row;
  }

  async function find(actor: Actor, id: string): Promise<AccountRow> {
    return visibleLive(await accounts.liveById(id), await accounts.visible(actor), id);
  }

  /** The account a change is about, as the scene read it; 404 for a deleted one or one the actor may not see. */
  const target = (scene: AccountScene, id: string) => visibleLive(scene.chain[0], scene.visible, id);

  /** Managers change accounts strictly below their own; their own account's limits are set above them. */
  function findChangeable(scene: AccountScene, actor: Actor, id: string): AccountRow {
    const row = target(scene, id);
    if (actor.role !== "admin" && row.id === actor.accountId)
      throw new PermissionDeniedError("a manager key may not change its own account; ask an admin or the manager above it");
    return row;
  }

  /** The scene's nameHolder is the live account with the name the change gives. */
  function assertNameFree(scene: AccountScene, name: string, exceptId?: string) {
    if (scene.nameHolder != null && scene.nameHolder !== exceptId) throw new ConflictError(`an account named '${name}' already exists`, "name");
  }

  /** 403 exceeds_caller_limit when a non-admin sets a limit beyond its own account's chain. */
  function checkWithinCaller(scene: AccountScene, actor: Actor, row: Pick<AccountRow, "concurrency" | "budgetPeriod" | "budgetTokens" | "budgetCostMicros">) {
    if (actor.role === "admin") return;
    const chain = scene.own;
    const own = chain[0];
    if (own == null) throw new PermissionDeniedError("this key may not manage accounts; it needs the admin or manager role");
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
   * use (`parentChain`: the parent and those above it); when it narrows, every list below it
   * (sub-accounts, live keys) must still lie within it.
   */
  function checkRegions(account: Pick<AccountRow, "parentId">, regions: string[] | null | undefined, parentChain: readonly AccountRow[], below: readonly RegionList[]) {
    if (regions == null) return;
    assertRegionsWithin(regions, deps.installationRegions ?? null, "this installation's allowed regions ([residency])");
    if (account.parentId != null) assertRegionsWithin(regions, accountRegions(parentChain), `the allowed regions of parent account '${account.parentId}'`);
    for (const { what, regions: theirs } of below) {
      const outside = theirs.find((region) => !regions.includes(region));
      if (outside !== undefined)
        throw new InvalidRequestError(`allowed_regions: ${what} allows region '${outside}', which this list leaves out; narrow or clear its allowed_regions first`, {
          param: "allowed_regions",
          code: "region_not_allowed",
        });
    }
  }

  /** What a change that asked for it sees below its target. */
  function belowOf(scene: AccountScene): NonNullable<AccountScene["below"]> {
    if (scene.below == null) throw new Error("this change needs what lies below its account");
    return scene.below;
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
    async create(actor: Actor, input: CreateAccountInput): Promise<AccountRow> {
      requireManager(actor);
      const parentId = input.parent_id ?? actor.accountId ?? null;
      return accounts.change({ actor, accountId: parentId, name: input.name }, (scene) => {
        if (parentId != null) {
          try {
            target(scene, parentId);
          } catch (error) {
            if (error instanceof NotFoundError) throw new NotFoundError(`no account '${parentId}' (parent_id)`);
            throw error;
          }
        } else if (actor.role !== "admin") throw new PermissionDeniedError("only an admin may create a top-level account");
        assertNameFree(scene, input.name);
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
        checkWithinCaller(scene, actor, row);
        // Nothing lies below an account not yet written; the scene's chain is the parent's.
        checkRegions(row, row.allowedRegions, scene.chain, []);
        return {
          at,
          write: { insert: row },
          audit: () => ({ actor: actor.id, action: "account.create", target: row.id, details: { name: row.name, parent_id: parentId, ...limitFields(input) } }),
        };
      });
    },

    async list(actor: Actor): Promise<AccountRow[]> {
      requireManager(actor);
      const visible = await accounts.visible(actor);
      return (await accounts.listLive()).filter((row) => canSee(visible, row.id));
    },

    /** The accounts an actor may see: all for an admin, its own tree for a manager, none for a user. */
    visible: (actor: Actor) => accounts.visible(actor),

    async get(actor: Actor, id: string): Promise<AccountRow> {
      requireManager(actor);
      return find(actor, id);
    },

    async update(actor: Actor, id: string, input: UpdateAccountInput): Promise<AccountRow> {
      requireManager(actor);
      return accounts.change({ actor, accountId: id, name: input.name, below: input.allowed_regions !== undefined }, (scene) => {
        const row = findChangeable(scene, actor, id);
        if (input.name !== undefined) assertNameFree(scene, input.name, row.id);
        const at = now();
        const changes = { ...(input.name !== undefined && { name: input.name }), ...limitFields(input) };
        const next: AccountRow = { ...row, ...changes, updatedAt: at };
        checkBudget(next);
        // Only what this change sets is bounded: a limit an admin set earlier stays as it is.
        const budgetTouched = changes.budgetPeriod !== undefined || changes.budgetTokens !== undefined || changes.budgetCostMicros !== undefined;
        checkWithinCaller(scene, actor, {
          concurrency: changes.concurrency === undefined ? null : next.concurrency,
          budgetPeriod: budgetTouched ? next.budgetPeriod : null,
          budgetTokens: next.budgetTokens,
          budgetCostMicros: next.budgetCostMicros,
        });
        if (changes.allowedRegions !== undefined) checkRegions(row, changes.allowedRegions, scene.chain.slice(1), belowOf(scene).regionLists);
        return { at, write: { update: changes }, audit: () => ({ actor: actor.id, action: "account.update", target: row.id, details: changes }) };
      });
    },

    /** Marks the account deleted and revokes its keys; refused while it has live sub-accounts. */
    async delete(actor: Actor, id: string): Promise<AccountRow> {
      requireManager(actor);
      return accounts.change({ actor, accountId: id, below: true }, (scene) => {
        const row = findChangeable(scene, actor, id);
        const below = belowOf(scene);
        if (actor.accountId != null && below.subtree.includes(actor.accountId)) throw new ConflictError("the account holding the key making this request cannot be deleted");
        if (below.liveChild != null) throw new ConflictError(`account '${row.id}' still has sub-accounts (e.g. '${below.liveChild}'); delete them first`);
        return { at: now(), write: { delete: true }, audit: () => ({ actor: actor.id, action: "account.delete", target: row.id, details: { name: row.name } }) };
      });
    },

    /** Adds to the prepaid balance (admins only: managers must not mint money for their own tree). */
    async addCredits(actor: Actor, id: string, amount: number): Promise<AccountRow> {
      if (actor.role !== "admin") throw new PermissionDeniedError("only an admin may add credits");
      const added = toMicros(amount) ?? 0;
      return accounts.change({ actor, accountId: id }, (scene) => {
        const row = target(scene, id);
        return {
          at: now(),
          write: { credit: added },
          audit: (written) => ({ actor: actor.id, action: "account.credits", target: row.id, details: { added_micros: added, balance_micros: written.creditsMicros } }),
        };
      });
    },

    /** The account the CLI puts keys in when none is named; created on first use. */
    async ensureDefault(actor: Actor): Promise<AccountRow> {
      return (await accounts.liveByName(DEFAULT_ACCOUNT_NAME)) ?? service.create(actor, { name: DEFAULT_ACCOUNT_NAME });
    },

    /** Resolves an id or a live account's name (for the CLI). */
    async resolve(actor: Actor, idOrName: string): Promise<AccountRow> {
      const byName = await accounts.liveByName(idOrName);
      return find(actor, byName?.id ?? idOrName);
    },
  };
  return service;
}

export type AccountService = ReturnType<typeof createAccountService>;
