import { and, eq, isNull } from "drizzle-orm";
import { accountRegions } from "../accounts/account-regions";
import { canSee, visibleAccounts } from "../accounts/account-tree";
import type { Actor } from "../accounts/actor";
import { ConflictError } from "../accounts/conflict-error";
import { toMicros } from "../accounts/limits-input";
import { appendAudit } from "../audit/append-audit";
import { configSchema, type Config } from "../config/schema";
import type { SyncDb } from "../db/sync-db";
import { accounts, apiKeys, type AccountRow, type ApiKeyRow } from "../db/schema";
import { AuthenticationError, InvalidRequestError, NotFoundError, PermissionDeniedError } from "../errors";
import type { UsageTotals } from "../metering/usage-source";
import { assertRegionsWithin, intersectRegions } from "../residency/region-scope";
import { generateKeySecret, hashesEqual, hashKeySecret, keyLookup } from "./api-key-secret";
import { ipAllowed } from "./ip-allow-list";
import { CreateKeyInput, type UpdateKeyInput } from "./key-input";
import { assertKeyWithinCaller, inheritedFromCaller, KEY_FIELDS, type KeyBoundsContext, type KeyField } from "./key-within-caller";
import { newId } from "../db/random-base62";

export interface KeyServiceDeps {
  db: SyncDb;
  /** `[auth] pepper`: mixed into every stored hash. */
  pepper: string;
  now?: () => number;
  /** The regions `[residency]` allows (effectiveRegions); a key's allowed_regions must lie within them. null: not restricted. */
  installationRegions?: readonly string[] | null;
  /** `[limits]`: what a key's null concurrency, rpm and tpm mean when bounding what a manager grants; default the built-in defaults. */
  limits?: Pick<Config["limits"], "concurrency" | "rpm" | "tpm">;
}

const DEFAULT_LIMITS = configSchema.parse({}).limits;

export type KeyUsageTotals = UsageTotals;

/** The regions a key's requests may be processed in, and the rule that set them (named in a 403). */
export interface RegionScope {
  regions: string[];
  rule: "key.allowed_regions" | "account.allowed_regions";
}

export interface Authenticated {
  key: ApiKeyRow;
  account: AccountRow;
}

/**
 * API keys: create (the secret is returned once and never stored), list with usage totals, get,
 * update, revoke, and authenticate a presented secret. Access rules as in the account service; a
 * manager may neither create nor change admin keys, nor change its own key. Nothing a manager
 * creates or changes may exceed what its own key holds (assertKeyWithinCaller): a key it creates
 * starts from its own limits and scope, and every field it sets may only narrow them, so a "twin"
 * manager key can at most narrow its creator. Admin keys and the CLI are unbounded.
 */
export function createKeyService(deps: KeyServiceDeps) {
  const { db, pepper } = deps;
  const now = () => new Date((deps.now ?? Date.now)());

  /** The key a non-admin actor calls with and what bounds it; null for an admin or the CLI. */
  function callerBounds(tx: SyncDb, actor: Actor, targetAccountId: string): { caller: ApiKeyRow; ctx: KeyBoundsContext } | null {
    if (actor.role === "admin") return null;
    const caller = actor.keyId == null ? undefined : tx.select().from(apiKeys).where(eq(apiKeys.id, actor.keyId)).get();
    if (caller == null) throw new PermissionDeniedError("this key may not manage keys; it needs the admin or manager role");
    const ctx: KeyBoundsContext = {
      limits: deps.limits ?? DEFAULT_LIMITS,
      callerRegions: intersectRegions(caller.allowedRegions, accountRegions(tx, caller.accountId)),
      targetAccountRegions: accountRegions(tx, targetAccountId),
    };
    return { caller, ctx };
  }

  function touchedFields(input: UpdateKeyInput): Set<KeyField> {
    const touched = new Set<KeyField>();
    for (const field of KEY_FIELDS) if (field !== "budget" && input[field] !== undefined) touched.add(field);
    if (input.budget_period !== undefined || input.budget_tokens !== undefined || input.budget_cost !== undefined) touched.add("budget");
    return touched;
  }

  function requireManager(actor: Actor) {
    if (actor.role === "user") throw new PermissionDeniedError("this key may not manage keys; it needs the admin or manager role");
  }

  function find(tx: SyncDb, actor: Actor, id: string): ApiKeyRow {
    const row = tx.select().from(apiKeys).where(eq(apiKeys.id, id)).get();
    if (row == null || !canSee(visibleAccounts(tx, actor), row.accountId)) throw new NotFoundError(`no key '${id}'`);
    return row;
  }

  function findChangeable(tx: SyncDb, actor: Actor, id: string): ApiKeyRow {
    const row = find(tx, actor, id);
    if (actor.role !== "admin" && row.role === "admin") throw new PermissionDeniedError("only an admin may change an admin key");
    if (actor.role !== "admin" && row.id === actor.keyId) throw new PermissionDeniedError("a manager key may not change itself; ask an admin or the manager above it");
    return row;
  }

  function liveAccount(tx: SyncDb, actor: Actor, id: string): AccountRow {
    const row = tx.select().from(accounts).where(and(eq(accounts.id, id), isNull(accounts.deletedAt))).get();
    if (row == null || !canSee(visibleAccounts(tx, actor), row.id)) throw new NotFoundError(`no account '${id}' (account_id)`);
    return row;
  }

  function assertNameFree(tx: SyncDb, accountId: string, name: string, exceptId?: string) {
    const clash = tx
      .select({ id: apiKeys.id })
      .from(apiKeys)
      .where(and(eq(apiKeys.accountId, accountId), eq(apiKeys.name, name), isNull(apiKeys.revokedAt)))
      .get();
    if (clash != null && clash.id !== exceptId) throw new ConflictError(`account '${accountId}' already has a live key named '${name}'`, "name");
  }

  function parseExpiry(value: string | null | undefined, at: Date): Date | null | undefined {
    if (value == null) return value;
    const expires = new Date(value);
    if (expires.getTime() <= at.getTime()) throw new InvalidRequestError(`expires_at ${value} is not in the future`, { param: "expires_at" });
    return expires;
  }

  function checkBudget(row: Pick<ApiKeyRow, "budgetPeriod" | "budgetTokens" | "budgetCostMicros">) {
    if (row.budgetPeriod == null && (row.budgetTokens != null || row.budgetCostMicros != null))
      throw new InvalidRequestError("a budget needs budget_period ('day' or 'month')", { param: "budget_period" });
  }

  /** A key's own allowed_regions must lie within [residency] and within its account's (and the accounts' above it). */
  function checkRegions(tx: SyncDb, accountId: string, regions: string[] | null | undefined) {
    if (regions == null) return;
    assertRegionsWithin(regions, deps.installationRegions ?? null, "this installation's allowed regions ([residency])");
    assertRegionsWithin(regions, accountRegions(tx, accountId), `the allowed regions of account '${accountId}'`);
  }

  function changedFields(input: UpdateKeyInput, at: Date) {
    return {
      ...(input.name !== undefined && { name: input.name }),
      ...(input.models !== undefined && { models: input.models }),
      ...(input.allowed_ips !== undefined && { allowedIps: input.allowed_ips }),
      ...(input.allowed_regions !== undefined && { allowedRegions: input.allowed_regions == null ? null : [...new Set(input.allowed_regions)] }),
      ...(input.expires_at !== undefined && { expiresAt: parseExpiry(input.expires_at, at) }),
      ...(input.concurrency !== undefined && { concurrency: input.concurrency }),
      ...(input.rpm !== undefined && { rpm: input.rpm }),
      ...(input.tpm !== undefined && { tpm: input.tpm }),
      ...(input.budget_period !== undefined && { budgetPeriod: input.budget_period }),
      ...(input.budget_tokens !== undefined && { budgetTokens: input.budget_tokens }),
      ...(input.budget_cost !== undefined && { budgetCostMicros: toMicros(input.budget_cost) }),
    };
  }

  /** Audit details: what changed, with the expiry as text; never the secret or its hash. */
  function auditDetails(fields: Record<string, unknown>) {
    return Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, value instanceof Date ? value.toISOString() : value]));
  }

  return {
    create(actor: Actor, raw: CreateKeyInput): { key: ApiKeyRow; secret: string } {
      requireManager(actor);
      const input = CreateKeyInput.parse(raw);
      if (actor.role !== "admin" && input.role === "admin") throw new PermissionDeniedError("only an admin may create an admin key", { param: "role" });
      const accountId = input.account_id ?? actor.accountId;
      if (accountId == null) throw new InvalidRequestError("account_id is required", { param: "account_id" });
      return db.transaction((tx) => {
        const account = liveAccount(tx, actor, accountId);
        assertNameFree(tx, account.id, input.name);
        const at = now();
        const secret = generateKeySecret();
        const fields = changedFields(input, at);
        const bounds = callerBounds(tx, actor, account.id);
        // Only the limits the caller holds: a field it lacks stays at the row's default below.
        const inherited = bounds == null ? {} : Object.fromEntries(Object.entries(inheritedFromCaller(bounds.caller, bounds.ctx)).filter(([, value]) => value != null));
        const key: ApiKeyRow = {
          id: newId("key"),
          accountId: account.id,
          name: input.name,
          role: input.role,
          lookup: keyLookup(secret)!,
          keyHash: hashKeySecret(secret, pepper),
          models: null,
          allowedIps: null,
          allowedRegions: null,
          concurrency: null,
          rpm: null,
          tpm: null,
          budgetPeriod: null,
          budgetTokens: null,
          budgetCostMicros: null,
          createdAt: at,
          updatedAt: at,
          lastUsedAt: null,
          expiresAt: null,
          revokedAt: null,
          ...inherited,
          ...fields,
        };
        checkBudget(key);
        if (bounds != null) assertKeyWithinCaller(key, bounds.caller, new Set(KEY_FIELDS), bounds.ctx);
        checkRegions(tx, account.id, key.allowedRegions);
        tx.insert(apiKeys).values(key).run();
        appendAudit(tx, { actor: actor.id, action: "key.create", target: key.id, details: auditDetails({ account_id: account.id, role: key.role, ...inherited, ...fields }) }, at);
        return { key, secret };
      });
    },

    list(actor: Actor, filter: { accountId?: string; includeRevoked?: boolean } = {}): ApiKeyRow[] {
      requireManager(actor);
      const visible = visibleAccounts(db, actor);
      const conditions = [
        ...(filter.accountId != null ? [eq(apiKeys.accountId, filter.accountId)] : []),
        ...(filter.includeRevoked ? [] : [isNull(apiKeys.revokedAt)]),
      ];
      return db
        .select()
        .from(apiKeys)
        .where(and(...conditions))
        .orderBy(apiKeys.createdAt)
        .all()
        .filter((row) => canSee(visible, row.accountId));
    },

    /**
     * Where an authenticated key's requests may be processed beyond `[residency]`: its own
     * allowed_regions narrowed by its account's and every account above; null when none narrows.
     */
    regionScope(key: Pick<ApiKeyRow, "allowedRegions">, account: Pick<AccountRow, "id">): RegionScope | null {
      const regions = intersectRegions(key.allowedRegions, accountRegions(db, account.id));
      if (regions == null) return null;
      return { regions, rule: key.allowedRegions != null ? "key.allowed_regions" : "account.allowed_regions" };
    },

    get(actor: Actor, id: string): ApiKeyRow {
      requireManager(actor);
      return find(db, actor, id);
    },

    update(actor: Actor, id: string, input: UpdateKeyInput): ApiKeyRow {
      requireManager(actor);
      return db.transaction((tx) => {
        const row = findChangeable(tx, actor, id);
        if (row.revokedAt != null) throw new ConflictError(`key '${id}' is revoked`);
        if (input.name !== undefined) assertNameFree(tx, row.accountId, input.name, row.id);
        const at = now();
        const fields = changedFields(input, at);
        const next: ApiKeyRow = { ...row, ...fields, updatedAt: at };
        checkBudget(next);
        const bounds = callerBounds(tx, actor, row.accountId);
        if (bounds != null) assertKeyWithinCaller(next, bounds.caller, touchedFields(input), bounds.ctx);
        if (fields.allowedRegions !== undefined) checkRegions(tx, row.accountId, fields.allowedRegions);
        tx.update(apiKeys).set({ ...fields, updatedAt: at }).where(eq(apiKeys.id, row.id)).run();
        appendAudit(tx, { actor: actor.id, action: "key.update", target: row.id, details: auditDetails(fields) }, at);
        return next;
      });
    },

    /** Revokes at once (the next request with it gets 401); revoking a revoked key changes nothing. */
    revoke(actor: Actor, id: string): ApiKeyRow {
      requireManager(actor);
      return db.transaction((tx) => {
        const row = find(tx, actor, id);
        if (row.revokedAt != null) return row;
        if (actor.role !== "admin" && row.role === "admin") throw new PermissionDeniedError("only an admin may revoke an admin key");
        const at = now();
        tx.update(apiKeys).set({ revokedAt: at, updatedAt: at }).where(eq(apiKeys.id, row.id)).run();
        appendAudit(tx, { actor: actor.id, action: "key.revoke", target: row.id, details: { name: row.name } }, at);
        return { ...row, revokedAt: at, updatedAt: at };
      });
    },

    /**
     * The key and account a presented secret belongs to, or AuthenticationError. Rows are found by
     * the non-secret lookup prefix; every candidate's hash is compared in constant time.
     */
    authenticate(secret: string | null, clientIp: string | null = null): Authenticated {
      if (secret == null) throw new AuthenticationError("missing");
      const lookup = keyLookup(secret);
      if (lookup == null) throw new AuthenticationError("invalid");
      const hash = hashKeySecret(secret, pepper);
      const key = db
        .select()
        .from(apiKeys)
        .where(eq(apiKeys.lookup, lookup))
        .all()
        .find((candidate) => hashesEqual(candidate.keyHash, hash));
      if (key == null) throw new AuthenticationError("invalid");
      if (key.revokedAt != null) throw new AuthenticationError("revoked");
      if (key.expiresAt != null && key.expiresAt.getTime() <= now().getTime()) throw new AuthenticationError("expired");
      const account = db.select().from(accounts).where(eq(accounts.id, key.accountId)).get();
      if (account == null || account.deletedAt != null) throw new AuthenticationError("account_deleted");
      if (key.allowedIps != null && !ipAllowed(key.allowedIps, clientIp)) throw new PermissionDeniedError("this API key may not be used from this address", { code: "ip_not_allowed" });
      return { key, account };
    },
  };
}

export type KeyService = ReturnType<typeof createKeyService>;
