import { accountRegions } from "../accounts/account-regions";
import { canSee } from "../accounts/account-tree";
import type { Actor } from "../accounts/actor";
import { ConflictError } from "../accounts/conflict-error";
import { toMicros } from "../accounts/limits-input";
import { configSchema, type Config } from "../config/schema";
import { newId } from "../db/random-base62";
import type { AccountRow, ApiKeyRow } from "../db/schema";
import { AuthenticationError, InvalidRequestError, NotFoundError, PermissionDeniedError } from "../errors";
import type { UsageTotals } from "../metering/usage-source";
import { assertRegionsWithin, intersectRegions } from "../residency/region-scope";
import type { AccountRepository } from "../store/account-repository";
import type { KeyFilter, KeyRepository, KeyScene } from "../store/key-repository";
import { generateKeySecret, hashesEqual, hashKeySecret, keyLookup } from "./api-key-secret";
import { ipAllowed } from "./ip-allow-list";
import { CreateKeyInput, type UpdateKeyInput } from "./key-input";
import { assertKeyWithinCaller, inheritedFromCaller, KEY_FIELDS, type KeyBoundsContext, type KeyField } from "./key-within-caller";

export interface KeyServiceDeps {
  keys: KeyRepository;
  /** Where a key's account and the accounts above it are read. */
  accounts: AccountRepository;
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
 * API keys: create (the secret is returned once and never stored), list, get, update, revoke,
 * and authenticate a presented secret. Access rules, and checks made inside each change's
 * transaction, as in the account service; a
 * manager may neither create nor change admin keys, nor change its own key. Nothing a manager
 * creates or changes may exceed what its own key holds (assertKeyWithinCaller): a key it creates
 * starts from its own limits and scope, and every field it sets may only narrow them, so a "twin"
 * manager key can at most narrow its creator. Admin keys and the CLI are unbounded.
 */
export function createKeyService(deps: KeyServiceDeps) {
  const { keys, accounts, pepper } = deps;
  const now = () => new Date((deps.now ?? Date.now)());

  /** The key a non-admin actor calls with and what bounds it; null for an admin or the CLI. */
  function callerBounds(scene: KeyScene, actor: Actor): { caller: ApiKeyRow; ctx: KeyBoundsContext } | null {
    if (actor.role === "admin") return null;
    const { caller } = scene;
    if (caller == null) throw new PermissionDeniedError("this key may not manage keys; it needs the admin or manager role");
    const ctx: KeyBoundsContext = {
      limits: deps.limits ?? DEFAULT_LIMITS,
      callerRegions: intersectRegions(caller.allowedRegions, accountRegions(scene.callerChain)),
      targetAccountRegions: accountRegions(scene.chain),
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

  function visibleKey(row: ApiKeyRow | null | undefined, visible: "all" | Set<string>, id: string): ApiKeyRow {
    if (row == null || !canSee(visible, row.accountId)) throw new NotFoundError(`no key '${id}'`);
    return row;
  }

  function findChangeable(scene: KeyScene, actor: Actor, id: string): ApiKeyRow {
    const row = visibleKey(scene.key, scene.visible, id);
    if (actor.role !== "admin" && row.role === "admin") throw new PermissionDeniedError("only an admin may change an admin key");
    if (actor.role !== "admin" && row.id === actor.keyId) throw new PermissionDeniedError("a manager key may not change itself; ask an admin or the manager above it");
    return row;
  }

  function liveAccount(scene: KeyScene, id: string): AccountRow {
    const row = scene.chain[0];
    if (row == null || row.deletedAt != null || !canSee(scene.visible, row.id)) throw new NotFoundError(`no account '${id}' (account_id)`);
    return row;
  }

  /** The scene's nameHolder is the target account's live key with the name the change gives. */
  function assertNameFree(scene: KeyScene, accountId: string, name: string, exceptId?: string) {
    if (scene.nameHolder != null && scene.nameHolder !== exceptId) throw new ConflictError(`account '${accountId}' already has a live key named '${name}'`, "name");
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
  function checkRegions(scene: KeyScene, accountId: string, regions: string[] | null | undefined) {
    if (regions == null) return;
    assertRegionsWithin(regions, deps.installationRegions ?? null, "this installation's allowed regions ([residency])");
    assertRegionsWithin(regions, accountRegions(scene.chain), `the allowed regions of account '${accountId}'`);
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
    async create(actor: Actor, raw: CreateKeyInput): Promise<{ key: ApiKeyRow; secret: string }> {
      requireManager(actor);
      const input = CreateKeyInput.parse(raw);
      if (actor.role !== "admin" && input.role === "admin") throw new PermissionDeniedError("only an admin may create an admin key", { param: "role" });
      const accountId = input.account_id ?? actor.accountId;
      if (accountId == null) throw new InvalidRequestError("account_id is required", { param: "account_id" });
      // Made before the change: a retried transaction stores the hash of the secret returned here.
      const id = newId("key");
      const secret = generateKeySecret();
      const key = await keys.change({ actor, accountId, name: input.name }, (scene) => {
        const account = liveAccount(scene, accountId);
        assertNameFree(scene, account.id, input.name);
        const at = now();
        const fields = changedFields(input, at);
        const bounds = callerBounds(scene, actor);
        // Only the limits the caller holds: a field it lacks stays at the row's default below.
        const inherited = bounds == null ? {} : Object.fromEntries(Object.entries(inheritedFromCaller(bounds.caller, bounds.ctx)).filter(([, value]) => value != null));
        const key: ApiKeyRow = {
          id,
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
        checkRegions(scene, account.id, key.allowedRegions);
        return {
          at,
          write: { insert: key },
          audit: { actor: actor.id, action: "key.create", target: key.id, details: auditDetails({ account_id: account.id, role: key.role, ...inherited, ...fields }) },
        };
      });
      return { key, secret };
    },

    async list(actor: Actor, filter: KeyFilter = {}): Promise<ApiKeyRow[]> {
      requireManager(actor);
      const visible = await accounts.visible(actor);
      return (await keys.list(filter)).filter((row) => canSee(visible, row.accountId));
    },

    /**
     * Where an authenticated key's requests may be processed beyond `[residency]`: its own
     * allowed_regions narrowed by its account's and every account above; null when none narrows.
     */
    async regionScope(key: Pick<ApiKeyRow, "allowedRegions">, account: AccountRow): Promise<RegionScope | null> {
      const regions = intersectRegions(key.allowedRegions, accountRegions(await accounts.chain(account)));
      if (regions == null) return null;
      return { regions, rule: key.allowedRegions != null ? "key.allowed_regions" : "account.allowed_regions" };
    },

    async get(actor: Actor, id: string): Promise<ApiKeyRow> {
      requireManager(actor);
      return visibleKey(await keys.byId(id), await accounts.visible(actor), id);
    },

    async update(actor: Actor, id: string, input: UpdateKeyInput): Promise<ApiKeyRow> {
      requireManager(actor);
      return keys.change({ actor, keyId: id, name: input.name }, (scene) => {
        const row = findChangeable(scene, actor, id);
        if (row.revokedAt != null) throw new ConflictError(`key '${id}' is revoked`);
        if (input.name !== undefined) assertNameFree(scene, row.accountId, input.name, row.id);
        const at = now();
        const fields = changedFields(input, at);
        const next: ApiKeyRow = { ...row, ...fields, updatedAt: at };
        checkBudget(next);
        const bounds = callerBounds(scene, actor);
        if (bounds != null) assertKeyWithinCaller(next, bounds.caller, touchedFields(input), bounds.ctx);
        if (fields.allowedRegions !== undefined) checkRegions(scene, row.accountId, fields.allowedRegions);
        return { at, write: { update: fields }, audit: { actor: actor.id, action: "key.update", target: row.id, details: auditDetails(fields) } };
      });
    },

    /** Revokes at once (the next request with it gets 401); revoking a revoked key changes nothing. */
    async revoke(actor: Actor, id: string): Promise<ApiKeyRow> {
      requireManager(actor);
      return keys.change({ actor, keyId: id }, (scene) => {
        const row = visibleKey(scene.key, scene.visible, id);
        if (row.revokedAt != null) return { unchanged: row };
        if (actor.role !== "admin" && row.role === "admin") throw new PermissionDeniedError("only an admin may revoke an admin key");
        const at = now();
        return { at, write: { update: { revokedAt: at } }, audit: { actor: actor.id, action: "key.revoke", target: row.id, details: { name: row.name } } };
      });
    },

    /**
     * The key and account a presented secret belongs to, or AuthenticationError. Rows are found by
     * the non-secret lookup prefix; every candidate's hash is compared in constant time.
     */
    async authenticate(secret: string | null, clientIp: string | null = null): Promise<Authenticated> {
      if (secret == null) throw new AuthenticationError("missing");
      const lookup = keyLookup(secret);
      if (lookup == null) throw new AuthenticationError("invalid");
      const hash = hashKeySecret(secret, pepper);
      const key = (await keys.byLookup(lookup)).find((candidate) => hashesEqual(candidate.keyHash, hash));
      if (key == null) throw new AuthenticationError("invalid");
      if (key.revokedAt != null) throw new AuthenticationError("revoked");
      if (key.expiresAt != null && key.expiresAt.getTime() <= now().getTime()) throw new AuthenticationError("expired");
      const account = await accounts.byId(key.accountId);
      if (account == null || account.deletedAt != null) throw new AuthenticationError("account_deleted");
      if (key.allowedIps != null && !ipAllowed(key.allowedIps, clientIp)) throw new PermissionDeniedError("this API key may not be used from this address", { code: "ip_not_allowed" });
      return { key, account };
    },
  };
}

export type KeyService = ReturnType<typeof createKeyService>;
