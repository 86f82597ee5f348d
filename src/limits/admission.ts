import type { Config } from "../config/schema";
import type { AccountRow, ApiKeyRow } from "../db/schema";
import type { UsageFilter } from "../metering/usage-source";
import type { AccountRepository } from "../store/account-repository";
import type { UsageRepository } from "../store/usage-repository";
import { budgetPeriodBounds, type BudgetPeriod } from "./budget-period";
import { createConcurrencyLimiter, type ConcurrencyLease, type ConcurrencyLimiter } from "./concurrency-limiter";
import { RateLimitError } from "./rate-limit-error";
import { createSlidingWindow, type SlidingWindow } from "./sliding-window";

export interface AdmissionDeps {
  limits: Config["limits"];
  currency: string;
  /** Where a request's account chain and each budgeted account's subtree are read. */
  accounts: AccountRepository;
  /** What budgets are checked against. */
  usage: UsageRepository;
  now?: () => number;
  limiter?: ConcurrencyLimiter;
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
  const requestWindows = new Map<string, SlidingWindow>();
  const tokenWindows = new Map<string, SlidingWindow>();

  const windowFor = (map: Map<string, SlidingWindow>, keyId: string) => {
    let window = map.get(keyId);
    if (window == null) map.set(keyId, (window = createSlidingWindow()));
    return window;
  };

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

      const rpm = rpmOf(key);
      const requests = windowFor(requestWindows, key.id);
      if (rpm > 0 && requests.used(at) >= rpm)
        throw new RateLimitError(`key '${key.id}' reached its limit of ${rpm} requests per minute`, {
          code: "rate_limit_requests",
          retryAfterSeconds: requests.msUntilBelow(at, rpm) / 1000,
          details: { limit_requests: rpm },
        });
      const tpm = tpmOf(key);
      const tokens = windowFor(tokenWindows, key.id);
      if (tpm > 0 && tokens.used(at) >= tpm)
        throw new RateLimitError(`key '${key.id}' reached its limit of ${tpm} tokens per minute`, {
          code: "rate_limit_tokens",
          retryAfterSeconds: tokens.msUntilBelow(at, tpm) / 1000,
          details: { limit_tokens: tpm, used_tokens: tokens.used(at) },
        });
      requests.add(at, 1);

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
      return { lease, recordTokens: (count) => tokens.add(now(), count) };
    },

    /** OpenAI's x-ratelimit-* headers for the limits the key has (none when unlimited). */
    headers(key: ApiKeyRow): Record<string, string> {
      const at = now();
      const headers: Record<string, string> = {};
      const rpm = rpmOf(key);
      if (rpm > 0) {
        const window = windowFor(requestWindows, key.id);
        headers["x-ratelimit-limit-requests"] = String(rpm);
        headers["x-ratelimit-remaining-requests"] = String(Math.max(0, rpm - window.used(at)));
        headers["x-ratelimit-reset-requests"] = formatDuration(window.msUntilBelow(at, 1));
      }
      const tpm = tpmOf(key);
      if (tpm > 0) {
        const window = windowFor(tokenWindows, key.id);
        headers["x-ratelimit-limit-tokens"] = String(tpm);
        headers["x-ratelimit-remaining-tokens"] = String(Math.max(0, tpm - window.used(at)));
        headers["x-ratelimit-reset-tokens"] = formatDuration(window.msUntilBelow(at, 1));
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
