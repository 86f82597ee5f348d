import type { UsageRow } from "./api-types";

export type UsageDimension = "model" | "key" | "account";
export type UsageMetric = "tokens" | "requests" | "cost";

const FIELD: Record<UsageDimension, "model" | "key_id" | "account_id"> = { model: "model", key: "key_id", account: "account_id" };

export function metricOf(row: UsageRow, metric: UsageMetric): number {
  if (metric === "tokens") return row.prompt_tokens + row.completion_tokens;
  if (metric === "requests") return row.requests;
  return row.cost;
}

/** Every UTC day from `since` to `until` inclusive, as YYYY-MM-DD. */
export function daysBetween(since: string, until: string): string[] {
  const days: string[] = [];
  for (let t = Date.parse(`${since}T00:00:00Z`), end = Date.parse(`${until}T00:00:00Z`); t <= end && days.length < 3660; t += 86_400_000)
    days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

/**
 * Rows grouped by day and one dimension, as chart series: one per group (the largest first; past
 * `maxSeries` the rest are summed as "other"), one point per day, days without usage at 0.
 */
export function usageSeries(rows: UsageRow[], dimension: UsageDimension, metric: UsageMetric, days: string[], label: (id: string) => string, maxSeries = 6) {
  const field = FIELD[dimension];
  const totals = new Map<string, number>();
  for (const row of rows) {
    const group = String(row[field] ?? "(none)");
    totals.set(group, (totals.get(group) ?? 0) + metricOf(row, metric));
  }
  const ranked = [...totals.entries()].sort((a, b) => b[1] - a[1]).map(([group]) => group);
  const shown = ranked.length > maxSeries ? ranked.slice(0, maxSeries - 1) : ranked;
  const hasOther = ranked.length > shown.length;
  const index = new Map(days.map((day, i) => [day, i]));
  const values = new Map<string, number[]>([...shown, ...(hasOther ? ["(other)"] : [])].map((group) => [group, days.map(() => 0)]));
  for (const row of rows) {
    const i = row.day != null ? index.get(row.day) : undefined;
    if (i == null) continue;
    const group = String(row[field] ?? "(none)");
    const series = values.get(group) ?? values.get("(other)");
    if (series != null) series[i] = series[i]! + metricOf(row, metric);
  }
  return {
    x: days.map((day) => Date.parse(`${day}T00:00:00Z`) / 1000),
    series: [...values.entries()].map(([group, points]) => ({ label: group === "(other)" || group === "(none)" ? group : label(group), values: points })),
    totals: ranked.map((group) => ({ group, label: group === "(none)" ? group : label(group), value: totals.get(group)! })),
  };
}
