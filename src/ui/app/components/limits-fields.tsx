import type { LimitsDraft } from "../limits-form";

export interface LimitsFieldsProps {
  idPrefix: string;
  draft: LimitsDraft;
  onChange: (draft: LimitsDraft) => void;
  kind: "key" | "account";
}

/** The limit inputs shared by the key and account forms; empty means the server's [limits] default. */
export function LimitsFields({ idPrefix, draft, onChange, kind }: LimitsFieldsProps) {
  const field = (name: keyof LimitsDraft, label: string, help: string, type = "number", extra: Record<string, unknown> = {}) => (
    <div class="field">
      <label for={`${idPrefix}-${name}`}>{label}</label>
      <input
        id={`${idPrefix}-${name}`}
        name={name}
        type={type}
        value={draft[name]}
        onInput={(event) => onChange({ ...draft, [name]: event.currentTarget.value })}
        aria-describedby={`${idPrefix}-${name}-help`}
        {...extra}
      />
      <span id={`${idPrefix}-${name}-help`} class="help">
        {help}
      </span>
    </div>
  );
  return (
    <fieldset class="limits">
      <legend>Limits (leave empty for the server default)</legend>
      <div class="grid">
        {field("concurrency", "Concurrency", "requests in flight at once", "number", { min: 1 })}
        {kind === "key" && field("rpm", "Requests per minute", "0 = unlimited", "number", { min: 0 })}
        {kind === "key" && field("tpm", "Tokens per minute", "0 = unlimited", "number", { min: 0 })}
        <div class="field">
          <label for={`${idPrefix}-budget_period`}>Budget period</label>
          <select
            id={`${idPrefix}-budget_period`}
            value={draft.budget_period}
            onChange={(event) => onChange({ ...draft, budget_period: event.currentTarget.value as LimitsDraft["budget_period"] })}
          >
            <option value="">no budget</option>
            <option value="day">per day (UTC)</option>
            <option value="month">per month (UTC)</option>
          </select>
          <span class="help">window for the budgets below</span>
        </div>
        {field("budget_tokens", "Token budget", "prompt + completion tokens per period", "number", { min: 1 })}
        {field("budget_cost", "Cost budget", "in the pricing currency per period", "number", { min: 0, step: "any" })}
        {kind === "key" && field("models", "Allowed models", "comma-separated model ids; empty = every model", "text", { spellcheck: false })}
        {field("allowed_regions", "Allowed regions", "comma-separated, within the server's [residency]; empty = no narrowing", "text", { spellcheck: false })}
        {kind === "key" && field("allowed_ips", "Allowed addresses", "IPs or CIDR ranges, comma-separated; empty = anywhere", "text", { spellcheck: false })}
        {kind === "key" && field("expires_at", "Expires", "empty = never", "datetime-local")}
      </div>
    </fieldset>
  );
}
