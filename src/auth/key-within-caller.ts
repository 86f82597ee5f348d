import { assertBudgetWithin, exceedsCaller } from "../accounts/caller-bound";
import type { Config } from "../config/schema";
import type { ApiKeyRow } from "../db/schema";
import { intersectRegions } from "../residency/region-scope";
import { ipEntryWithin } from "./ip-allow-list";

/** The fields of a key a request sets, as the admin API names them (budget: period, tokens and cost together). */
export type KeyField = "models" | "allowed_ips" | "allowed_regions" | "expires_at" | "concurrency" | "rpm" | "tpm" | "budget";
export const KEY_FIELDS: readonly KeyField[] = ["models", "allowed_ips", "allowed_regions", "expires_at", "concurrency", "rpm", "tpm", "budget"];

export interface KeyBoundsContext {
  /** `[limits]`: what a key's null concurrency, rpm and tpm mean. */
  limits: Pick<Config["limits"], "concurrency" | "rpm" | "tpm">;
  /** Where the caller's requests may run (its key's list narrowed by its accounts'); null: anywhere. */
  callerRegions: readonly string[] | null;
  /** The regions of the target key's account chain; null: no narrowing. */
  targetAccountRegions: readonly string[] | null;
}

/**
 * What a key created by a non-admin caller starts from: the caller's own scope and limits, so an
 * omitted field can never mean "wider than the creator" (unset models, IPs or regions would mean
 * unrestricted). The request's fields then override these and must lie within them.
 */
export function inheritedFromCaller(caller: ApiKeyRow, ctx: KeyBoundsContext): Partial<ApiKeyRow> {
  const narrowed = ctx.callerRegions == null ? null : intersectRegions(ctx.callerRegions, ctx.targetAccountRegions);
  return {
    models: caller.models,
    allowedIps: caller.allowedIps,
    allowedRegions: narrowed == null ? null : narrowed.length > 0 ? narrowed : [...ctx.callerRegions!],
    expiresAt: caller.expiresAt,
    concurrency: caller.concurrency,
    rpm: caller.rpm,
    tpm: caller.tpm,
    budgetPeriod: caller.budgetPeriod,
    budgetTokens: caller.budgetTokens,
    budgetCostMicros: caller.budgetCostMicros,
  };
}

/**
 * The rule: nothing a non-admin caller creates or changes may exceed what it holds itself. Every
 * field the request sets must lie within the caller key's own: concurrency, rpm and tpm no higher
 * (null meaning the [limits] default, 0 rpm/tpm unlimited), a budget no larger (assertBudgetWithin),
 * models, allowed_ips and allowed_regions a subset where the caller has a list (no list on the
 * target is unrestricted, so wider), and an expiry no later than the caller's. Admin keys and the
 * CLI are not bounded and do not call this. 403 exceeds_caller_limit naming the field.
 */
export function assertKeyWithinCaller(target: ApiKeyRow, caller: ApiKeyRow, touched: ReadonlySet<KeyField>, ctx: KeyBoundsContext): void {
  const whose = "the calling key";
  const unlimited = (value: number) => (value === 0 ? Number.POSITIVE_INFINITY : value);
  const numbers = [
    ["concurrency", target.concurrency ?? ctx.limits.concurrency, caller.concurrency ?? ctx.limits.concurrency],
    ["rpm", unlimited(target.rpm ?? ctx.limits.rpm), unlimited(caller.rpm ?? ctx.limits.rpm)],
    ["tpm", unlimited(target.tpm ?? ctx.limits.tpm), unlimited(caller.tpm ?? ctx.limits.tpm)],
  ] as const;
  for (const [param, mine, theirs] of numbers)
    if (touched.has(param) && mine > theirs) throw exceedsCaller(param, `${whose} may use ${theirs}${param === "concurrency" ? " at once" : " per minute"}; set ${param} to at most that`);

  if (touched.has("budget")) assertBudgetWithin(target, caller, whose);

  if (touched.has("models") && caller.models != null && (target.models == null || target.models.some((model) => !caller.models!.includes(model))))
    throw exceedsCaller("models", `${whose} may use only models ${caller.models.join(", ")}; list a subset of them`);

  if (touched.has("allowed_ips") && caller.allowedIps != null && (target.allowedIps == null || target.allowedIps.some((entry) => !ipEntryWithin(entry, caller.allowedIps!))))
    throw exceedsCaller("allowed_ips", `${whose} may be used only from ${caller.allowedIps.join(", ")}; list addresses or ranges within them`);

  if (touched.has("allowed_regions") && ctx.callerRegions != null) {
    const regions = intersectRegions(target.allowedRegions, ctx.targetAccountRegions);
    if (regions == null || regions.some((region) => !ctx.callerRegions!.includes(region)))
      throw exceedsCaller("allowed_regions", `${whose} may run only in ${ctx.callerRegions.join(", ") || "no region"}; list a subset of them`);
  }

  if (touched.has("expires_at") && caller.expiresAt != null && (target.expiresAt == null || target.expiresAt.getTime() > caller.expiresAt.getTime()))
    throw exceedsCaller("expires_at", `${whose} expires at ${caller.expiresAt.toISOString()}; set expires_at no later`);
}
