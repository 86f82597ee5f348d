import { useMemo, useState } from "preact/hooks";
import type { AccountView, KeyView, List, ServerStatus, UsageList } from "../api-types";
import { LineChart } from "../components/line-chart";
import { ErrorNote, Loading } from "../components/notices";
import { foldUnknownModels, OTHER_MODELS } from "../fold-unknown-models";
import { formatInt, formatMoney, isoDay } from "../format";
import { useSession } from "../session-context";
import { useAsync } from "../use-async";
import { usageCsv } from "../usage-csv";
import { daysBetween, usageSeries, type UsageDimension, type UsageMetric } from "../usage-series";
import { TableWrap } from "../components/table-wrap";

const DIMENSIONS: { id: UsageDimension; label: string }[] = [
  { id: "model", label: "model" },
  { id: "key", label: "key" },
  { id: "account", label: "account" },
];
const METRICS: { id: UsageMetric; label: string }[] = [
  { id: "tokens", label: "tokens (prompt + completion)" },
  { id: "requests", label: "requests" },
  { id: "cost", label: "cost" },
];

/** Metered usage per day by model, key or account over a date range, as a chart, a table and CSV. */
export function UsagePage() {
  const { api } = useSession();
  const today = isoDay(new Date());
  const [range, setRange] = useState({ since: isoDay(new Date(Date.now() - 13 * 86_400_000)), until: today });
  const [draft, setDraft] = useState(range);
  const [dimension, setDimension] = useState<UsageDimension>("model");
  const [metric, setMetric] = useState<UsageMetric>("tokens");
  const [formError, setFormError] = useState<string | null>(null);

  const untilExclusive = isoDay(new Date(Date.parse(`${range.until}T00:00:00Z`) + 86_400_000));
  const usage = useAsync(
    () => api.get<UsageList>(`/admin/usage?group_by=day,${dimension}&since=${range.since}&until=${untilExclusive}`),
    [api, dimension, range.since, untilExclusive],
  );
  const names = useAsync(async () => {
    const [keys, accounts] = await Promise.all([api.get<List<KeyView>>("/admin/keys?include_revoked=true"), api.get<List<AccountView>>("/admin/accounts")]);
    return { keys: new Map(keys.data.map((key) => [key.id, key.name])), accounts: new Map(accounts.data.map((account) => [account.id, account.name])) };
  }, [api]);

  // By model, a row only for the models the server has now; the rest are one "other" row.
  const served = useAsync(async () => new Set((await api.get<ServerStatus>("/admin/status")).models.map((model) => model.id)), [api]);
  const rows = useMemo(() => {
    if (usage.data == null || (dimension === "model" && served.data == null)) return null;
    return dimension === "model" ? foldUnknownModels(usage.data.data, served.data!) : usage.data.data;
  }, [usage.data, served.data, dimension]);
  const label = (id: string) => (dimension === "key" ? names.data?.keys.get(id) : dimension === "account" ? names.data?.accounts.get(id) : id) ?? id;
  const days = useMemo(() => daysBetween(range.since, range.until), [range.since, range.until]);
  const chart = useMemo(() => (rows == null ? null : usageSeries(rows, dimension, metric, days, label)), [rows, dimension, metric, days, names.data]);
  const currency = usage.data?.currency ?? "";
  const show = (value: number) => (metric === "cost" ? formatMoney(value, currency) : formatInt(value));

  function apply(event: Event) {
    event.preventDefault();
    if (draft.since === "" || draft.until === "" || draft.since > draft.until) {
      setFormError("Choose a start date on or before the end date.");
      return;
    }
    setFormError(null);
    setRange(draft);
  }

  function exportCsv() {
    if (usage.data == null) return;
    const csv = usageCsv(usage.data.data, names.data ?? { keys: new Map(), accounts: new Map() }, currency);
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([csv], { type: "text/csv;charset=utf-8" }));
    link.download = `enclave-usage-${dimension}-${range.since}-to-${range.until}.csv`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }

  return (
    <div class="stack">
      <form class="toolbar card" onSubmit={apply} aria-label="Usage filters">
        <div class="field">
          <label for="usage-since">From</label>
          <input id="usage-since" type="date" value={draft.since} max={today} onInput={(event) => setDraft({ ...draft, since: event.currentTarget.value })} required />
        </div>
        <div class="field">
          <label for="usage-until">To (inclusive)</label>
          <input id="usage-until" type="date" value={draft.until} onInput={(event) => setDraft({ ...draft, until: event.currentTarget.value })} required />
        </div>
        <button type="submit">Show</button>
        <div class="field">
          <label for="usage-by">By</label>
          <select id="usage-by" value={dimension} onChange={(event) => setDimension(event.currentTarget.value as UsageDimension)}>
            {DIMENSIONS.map((d) => (
              <option key={d.id} value={d.id}>
                {d.label}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="usage-metric">Measure</label>
          <select id="usage-metric" value={metric} onChange={(event) => setMetric(event.currentTarget.value as UsageMetric)}>
            {METRICS.map((m) => (
              <option key={m.id} value={m.id}>
                {m.label}
              </option>
            ))}
          </select>
        </div>
        <button type="button" class="secondary" onClick={exportCsv} disabled={usage.data == null}>
          Export CSV
        </button>
      </form>
      <ErrorNote message={formError ?? usage.error ?? names.error ?? served.error} />
      {chart == null || rows == null ? (
        usage.error == null && served.error == null && <Loading what="usage" />
      ) : (
        <>
          <section class="card" aria-labelledby="usage-chart-title">
            <h2 id="usage-chart-title">
              {METRICS.find((m) => m.id === metric)!.label} per day by {dimension}
            </h2>
            {chart.totals.length === 0 ? (
              <p class="muted">No metered requests between {range.since} and {range.until}.</p>
            ) : (
              <LineChart title={`${metric} per day by ${dimension}, ${range.since} to ${range.until} (UTC days)`} x={chart.x} series={chart.series} height={260} />
            )}
          </section>
          <section aria-labelledby="usage-table-title">
            <h2 id="usage-table-title">Totals, {range.since} to {range.until}</h2>
            <TableWrap label="Usage totals">
                <thead>
                  <tr>
                    <th scope="col">{dimension[0]!.toUpperCase() + dimension.slice(1)}</th>
                    <th scope="col">Requests</th>
                    <th scope="col">Errors</th>
                    <th scope="col">Prompt tokens</th>
                    <th scope="col">Completion tokens</th>
                    <th scope="col">Cost</th>
                  </tr>
                </thead>
                <tbody>
                  {totalsBy(rows, dimension).map((row) => (
                    <tr key={row.group}>
                      <th scope="row">{row.group === "(none)" || row.group === OTHER_MODELS ? row.group : label(row.group)}</th>
                      <td>{formatInt(row.requests)}</td>
                      <td>{formatInt(row.errors)}</td>
                      <td>{formatInt(row.prompt_tokens)}</td>
                      <td>{formatInt(row.completion_tokens)}</td>
                      <td>{formatMoney(row.cost, currency)}</td>
                    </tr>
                  ))}
                </tbody>
              </TableWrap>
          </section>
          <p class="muted small">Days are UTC calendar days. {show(chart.totals.reduce((sum, t) => sum + t.value, 0))} in total.</p>
        </>
      )}
    </div>
  );
}

function totalsBy(rows: UsageList["data"], dimension: UsageDimension) {
  const field = dimension === "model" ? "model" : dimension === "key" ? "key_id" : "account_id";
  const groups = new Map<string, { group: string; requests: number; errors: number; prompt_tokens: number; completion_tokens: number; cost: number }>();
  for (const row of rows) {
    const group = String(row[field] ?? "(none)");
    const total = groups.get(group) ?? { group, requests: 0, errors: 0, prompt_tokens: 0, completion_tokens: 0, cost: 0 };
    total.requests += row.requests;
    total.errors += row.errors;
    total.prompt_tokens += row.prompt_tokens;
    total.completion_tokens += row.completion_tokens;
    total.cost += row.cost;
    groups.set(group, total);
  }
  return [...groups.values()].sort((a, b) => b.requests - a.requests);
}
