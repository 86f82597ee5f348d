import type { KeyView } from "./api-types";

/** The limit fields a key has; an account has some of them. */
export type LimitsSource = Partial<Pick<KeyView, "concurrency" | "rpm" | "tpm" | "budget_period" | "budget_tokens" | "budget_cost" | "models" | "allowed_ips" | "allowed_regions" | "expires_at">>;

/** The limit fields of a key or account as the form holds them: text, "" meaning "the default". */
export interface LimitsDraft {
  concurrency: string;
  rpm: string;
  tpm: string;
  budget_period: "" | "day" | "month";
  budget_tokens: string;
  budget_cost: string;
  models: string;
  allowed_ips: string;
  allowed_regions: string;
  expires_at: string;
}

export const EMPTY_LIMITS: LimitsDraft = { concurrency: "", rpm: "", tpm: "", budget_period: "", budget_tokens: "", budget_cost: "", models: "", allowed_ips: "", allowed_regions: "", expires_at: "" };

const text = (value: number | null | undefined) => (value == null ? "" : String(value));
const list = (values: string[] | null | undefined) => (values == null ? "" : values.join(", "));

export function limitsOf(row: LimitsSource): LimitsDraft {
  return {
    concurrency: text(row.concurrency),
    rpm: text(row.rpm),
    tpm: text(row.tpm),
    budget_period: row.budget_period ?? "",
    budget_tokens: text(row.budget_tokens),
    budget_cost: text(row.budget_cost),
    models: list(row.models),
    allowed_ips: list(row.allowed_ips),
    allowed_regions: list(row.allowed_regions),
    // <input type="datetime-local"> wants local time without a zone.
    expires_at: row.expires_at == null ? "" : toLocalInput(new Date(row.expires_at)),
  };
}

function toLocalInput(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** A number field: "" is null (back to the default); anything else must parse, or the server says why. */
function numberOrNull(value: string): number | null {
  const trimmed = value.trim();
  return trimmed === "" ? null : Number(trimmed);
}

function listOrNull(value: string): string[] | null {
  const items = value.split(/[,\s]+/).map((item) => item.trim()).filter(Boolean);
  return items.length === 0 ? null : items;
}

/** The JSON body for POST/PATCH of a key or an account: every field sent, null for "the default". */
export function limitsPayload(draft: LimitsDraft, kind: "key" | "account"): Record<string, unknown> {
  const common = {
    concurrency: numberOrNull(draft.concurrency),
    budget_period: draft.budget_period === "" ? null : draft.budget_period,
    budget_tokens: numberOrNull(draft.budget_tokens),
    budget_cost: numberOrNull(draft.budget_cost),
    allowed_regions: listOrNull(draft.allowed_regions),
  };
  if (kind === "account") return common;
  return {
    ...common,
    rpm: numberOrNull(draft.rpm),
    tpm: numberOrNull(draft.tpm),
    models: listOrNull(draft.models),
    allowed_ips: listOrNull(draft.allowed_ips),
    expires_at: draft.expires_at === "" ? null : new Date(draft.expires_at).toISOString(),
  };
}
