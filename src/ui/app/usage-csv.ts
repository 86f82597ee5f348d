import type { UsageRow } from "./api-types";

export interface UsageNames {
  keys: Map<string, string>;
  accounts: Map<string, string>;
}

/** A cell as RFC 4180 wants it; text starting with =, +, -, @ gets a leading ' so a spreadsheet shows it rather than runs it. */
export function csvCell(value: unknown): string {
  let text = value == null ? "" : String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Usage rows as CSV: the grouping columns present (key and account names beside their ids), then the totals. */
export function usageCsv(rows: UsageRow[], names: UsageNames, currency: string): string {
  const has = (field: keyof UsageRow) => rows.some((row) => field in row);
  const columns: [string, (row: UsageRow) => unknown][] = [];
  if (has("day")) columns.push(["day", (row) => row.day]);
  if (has("account_id")) {
    columns.push(["account_id", (row) => row.account_id]);
    columns.push(["account", (row) => (row.account_id != null ? names.accounts.get(row.account_id) : null)]);
  }
  if (has("key_id")) {
    columns.push(["key_id", (row) => row.key_id]);
    columns.push(["key", (row) => (row.key_id != null ? names.keys.get(row.key_id) : null)]);
  }
  if (has("model")) columns.push(["model", (row) => row.model]);
  columns.push(
    ["requests", (row) => row.requests],
    ["errors", (row) => row.errors],
    ["prompt_tokens", (row) => row.prompt_tokens],
    ["completion_tokens", (row) => row.completion_tokens],
    [`cost_${currency}`, (row) => row.cost],
  );
  const lines = [columns.map(([name]) => csvCell(name)).join(","), ...rows.map((row) => columns.map(([, get]) => csvCell(get(row))).join(","))];
  return `${lines.join("\r\n")}\r\n`;
}
