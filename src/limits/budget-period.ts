export type BudgetPeriod = "day" | "month";

/** The UTC calendar day or month containing `at`: [start, end). */
export function budgetPeriodBounds(period: BudgetPeriod, at: number): { start: number; end: number } {
  const date = new Date(at);
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth();
  if (period === "day") {
    const start = Date.UTC(year, month, date.getUTCDate());
    return { start, end: start + 86_400_000 };
  }
  return { start: Date.UTC(year, month, 1), end: Date.UTC(year, month + 1, 1) };
}
