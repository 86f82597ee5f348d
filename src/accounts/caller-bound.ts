import { PermissionDeniedError } from "../errors";

/** 403 exceeds_caller_limit on `param`: a manager tried to grant more than it holds itself. */
export function exceedsCaller(param: string, message: string): PermissionDeniedError {
  return new PermissionDeniedError(`${param}: ${message}; a key can only grant what it holds itself`, { code: "exceeds_caller_limit", param });
}

type Period = "day" | "month" | null;
interface Budget {
  budgetPeriod: Period;
  budgetTokens: number | null;
  budgetCostMicros: number | null;
}

/**
 * Whether `target`'s budget lies within `bound`'s: where the bound has a token or cost budget the
 * target needs one no larger, over the same period or over a month under a day (a month's
 * allowance that fits in one day cannot exceed any day). Throws exceedsCaller naming the field.
 */
export function assertBudgetWithin(target: Budget, bound: Budget, whose: string): void {
  if (bound.budgetPeriod == null) return;
  const periodFits = target.budgetPeriod === bound.budgetPeriod || (bound.budgetPeriod === "day" && target.budgetPeriod === "month");
  for (const [param, mine, theirs] of [
    ["budget_tokens", target.budgetTokens, bound.budgetTokens],
    ["budget_cost", target.budgetCostMicros, bound.budgetCostMicros],
  ] as const) {
    if (theirs == null) continue;
    const shown = (micros: number) => (param === "budget_cost" ? String(micros / 1e6) : String(micros));
    if (mine == null || mine > theirs) throw exceedsCaller(param, `${whose} has a budget of ${shown(theirs)} per ${bound.budgetPeriod}; set ${param} to at most that`);
    if (!periodFits) throw exceedsCaller("budget_period", `${whose} has a budget per ${bound.budgetPeriod}; set budget_period to '${bound.budgetPeriod}'`);
  }
}
