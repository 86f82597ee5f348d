import type { UsageRow } from "./api-types";

/** The one row that stands for every model the server does not serve now. */
export const OTHER_MODELS = "(other: unknown, removed or no model)";

/**
 * Usage rows by model, with a row only for models that exist: what was metered under a model the
 * server no longer has, under "unknown" (a client naming a model that was never configured) or
 * under no model at all is summed into one row per day, so totals still add up and a client
 * cannot add rows by inventing model names.
 */
export function foldUnknownModels(rows: UsageRow[], known: ReadonlySet<string>): UsageRow[] {
  const folded = new Map<string, UsageRow>();
  const out: UsageRow[] = [];
  for (const row of rows) {
    if (row.model != null && known.has(row.model)) {
      out.push(row);
      continue;
    }
    const day = row.day ?? "";
    const other = folded.get(day);
    if (other == null) {
      const first = { ...row, model: OTHER_MODELS };
      folded.set(day, first);
      out.push(first);
    } else {
      other.requests += row.requests;
      other.errors += row.errors;
      other.prompt_tokens += row.prompt_tokens;
      other.completion_tokens += row.completion_tokens;
      other.cost += row.cost;
    }
  }
  return out;
}
