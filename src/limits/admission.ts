import type { Config } from "../config/schema";
import type { AccountRow, ApiKeyRow } from "../db/schema";
import type { UsageFilter } from "../metering/usage-source";
import type { AccountRepository } from "../store/account-repository";
import type { UsageRepository } from "../store/usage-repository";
import { budgetPeriodBounds, type BudgetPeriod } from "./budget-period";
import { createConcurrencyLimiter, type ConcurrencyLease, type ConcurrencyLimiter } from "./concurrency-limiter";
import { RateLimitError } from "./rate-limit-error";
import { createInProcessRateWindows, type RateWindowReading, type RateWindows } from "./rate-windows";

export interface AdmissionDeps {
  limits: Config["limits"];
  currency: string;
  /** Where a request's account chain and each budgeted account's subtree are read. */
  accounts: AccountRepository;
  /** What budgets are checked against. */
  usage: UsageRepository;
  now?: () => number;
  /** Concurrency slots; default in process (one node). A fleet passes the Postgres one. */
  limiter?: ConcurrencyLimiter;
  /** Requests and tokens per minute; default in process (one node). A fleet passes the Postgres ones. */
  windows?: { requests: RateWindows; tokens: RateWindows };
}

export interface Admitted {
  lease: ConcurrencyLease;
  /** Adds the request's tokens to the key's tokens-per-minute window once they are known. */
  recordTokens(tokens: number): void;
}

type Budgeted = Pick<ApiKeyRow, "budgetPeriod" | "budgetTokens" | "budgetCostMicros">;

/**
 * Decides whether an authenticated request may run, cheapest check first: prepaid credits,
 * budgets for the period, requests per minute, tokens per minute, then a concurrency slot (which
 * may wait in the key's queue). Every refusal is a RateLimitError (429) that says which limit and,
 * where waiting helps, Retry-After.
 *
 * A request counts against its key, its account and every account above it: an account's
 * credits, budgets and concurrency cap bound its whole subtree, so a manager cannot escape them by
 * creating a sub-account. The chain of accounts is read once per request (never cached across
 * requests, so a changed limit holds at once). The [limits] account_concurrency default caps an
 * account's own keys only; an account's explicit concurrency caps its subtree.
 */
export function createAdmission(deps: AdmissionDeps) {
  const { limits, accounts } = deps;
  const now = deps.now ?? Date.now;
  const limiter = deps.limiter ?? createConcurrencyLimiter({ now });
  const windows = deps.windows ?? { requests: createInProcessRateWindows(), tokens: createInProcessRateWindows() };
  /** Each key's windows as its latest admission here read them: what its x-ratelimit headers report. */
  const readings = new Map<string, { requests?: RateWindowReading; tokens?: RateWindowReading }>();

  const rpmOf = (key: ApiKeyRow) => key.rpm ?? limits.rpm;
  const tpmOf = (key: ApiKeyRow) => key.tpm ?? limits.tpm;

  const hasBudget = (owner: Budgeted) => owner.budgetPeriod != null && (owner.budgetTokens != null || owner.budgetCostMicros != null);

  /** Spent in the period so far, from request rows and the daily roll-ups alike (periods start at UTC midnight). */
  async function checkBudget(owner: Budgeted, what: string, whose: Pick<UsageFilter, "keyIds" | "accountIds">, at: number) {
    if (!hasBudget(owner)) return;
    const { start, end } = budgetPeriodBounds(owner.budgetPeriod as BudgetPeriod, at);
    const used = await deps.usage.spent({ ...whose, since: start });
    const retryAfterSeconds = Math.ceil((end - at) / 1000);
    if (owner.budgetTokens != null && used.tokens >= owner.budgetTokens)
      throw new RateLimitError(`${what} has used ${used.tokens} of its ${owner.budgetTokens} tokens for this ${owner.budgetPeriod}; the budget renews at ${new Date(end).toISOString()}`, {
        code: "budget_exceeded",
        retryAfterSeconds,
        details: { budget_tokens: owner.budgetTokens, used_tokens: used.tokens },
      });
    if (owner.budgetCostMicros != null && used.costMicros >= owner.budgetCostMicros)
      throw new RateLimitError(
        `${what} has spent ${money(used.costMicros)} of its ${money(owner.budgetCostMicros)} ${deps.currency} budget for this ${owner.budgetPeriod}; the budget renews at ${new Date(end).toISOString()}`,
        { code: "budget_exceeded", retryAfterSeconds, details: { budget_cost: owner.budgetCostMicros / 1e6, used_cost: used.costMicros / 1e6 } },
      );
  }

  return {
    async admit(request: { key: ApiKeyRow; account: AccountRow; signal?: AbortSignal }): Promise<Admitted> {
      const { key, account } = request;
      const at = now();
      const chain = await accounts.chain(account);
      const named = (owner: AccountRow) => (owner.id === account.id ? `account '${owner.id}'` : `account '${owner.id}' (above account '${account.id}')`);
      for (const owner of chain)
        if (owner.creditsMicros != null && owner.creditsMicros <= 0)
          throw new RateLimitError(`${named(owner)} has no prepaid credits left (balance ${money(owner.creditsMicros)} ${deps.currency}); an admin can add credits`, {
            code: "insufficient_quota",
            details: { balance: owner.creditsMicros / 1e6 },
          });
      await checkBudget(key, `key '${key.id}'`, { keyIds: [key.id] }, at);
      for (const owner of chain) if (hasBudget(owner)) await checkBudget(owner, named(owner), { accountIds: await accounts.subtree(owner.id) }, at);

      // Windows count for keys without rpm or tpm too, so a limit set later holds at once.
      const rpm = rpmOf(key);
      const tpm = tpmOf(key);
      const seen: { requests?: RateWindowReading; tokens?: RateWindowReading } = {};
      readings.set(key.id, seen);
      if (tpm > 0) {
        const tokens = (seen.tokens = await windows.tokens.read(key.id, at));
        if (tokens.used >= tpm) {
          if (rpm > 0) seen.requests = await windows.requests.read(key.id, at);
          throw new RateLimitError(`key '${key.id}' reached its limit of ${tpm} tokens per minute`, {
            code: "rate_limit_tokens",
            retryAfterSeconds: tokens.msUntilBelow(tpm) / 1000,
            details: { limit_tokens: tpm, used_tokens: tokens.used },
          });
        }
      }
      if (rpm === 0) void windows.requests.add(key.id, at, 1).catch(() => {});
      else {
        const { taken, reading } = await windows.requests.take(key.id, at, 1, rpm);
        seen.requests = reading;
        if (!taken)
          throw new RateLimitError(`key '${key.id}' reached its limit of ${rpm} requests per minute`, {
            code: "rate_limit_requests",
            retryAfterSeconds: reading.msUntilBelow(rpm) / 1000,
            details: { limit_requests: rpm },
          });
      }

      const lease = await limiter.acquire({
        keyId: key.id,
        keyLimit: key.concurrency ?? limits.concurrency,
        accountId: account.id,
        accountLimit: account.concurrency ?? limits.account_concurrency,
        tree: chain.map((owner) => ({ accountId: owner.id, limit: owner.concurrency ?? 0 })),
        queueSize: limits.queue_size,
        maxWaitMs: limits.queue_wait_seconds * 1000,
        signal: request.signal,
      });
      // A lost count only makes the key's limit a little lenient; the request itself succeeded.
      return { lease, recordTokens: (count) => void windows.tokens.add(key.id, now(), count).catch(() => {}) };
    },

    /** OpenAI's x-ratelimit-* headers for the limits the key has (none when unlimited), as of its latest admission. */
    headers(key: ApiKeyRow): Record<string, string> {
      const headers: Record<string, string> = {};
      const { requests, tokens } = readings.get(key.id) ?? {};
      const rpm = rpmOf(key);
      if (rpm > 0 && requests != null) {
        headers["x-ratelimit-limit-requests"] = String(rpm);
        headers["x-ratelimit-remaining-requests"] = String(Math.max(0, rpm - requests.used));
        headers["x-ratelimit-reset-requests"] = formatDuration(requests.msUntilBelow(1));
      }
      const tpm = tpmOf(key);
      if (tpm > 0 && tokens != null) {
        headers["x-ratelimit-limit-tokens"] = String(tpm);
        headers["x-ratelimit-remaining-tokens"] = String(Math.max(0, tpm - tokens.used));
        headers["x-ratelimit-reset-tokens"] = formatDuration(tokens.msUntilBelow(1));
      }
      return headers;
    },

    limiter,
  };
}

export type Admission = ReturnType<typeof createAdmission>;

function money(micros: number): string {
  return (micros / 1e6).toFixed(2);
}

/** OpenAI's reset format: "250ms", "12s", "1m0s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.ceil(ms)}ms`;
  const seconds = Math.ceil(ms / 1000);
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m${seconds % 60}s`;
}
