import { useState } from "preact/hooks";
import type { AuditEntry, AuditVerification, List } from "../api-types";
import { ErrorNote, Loading } from "../components/notices";
import { formatInt, formatTime } from "../format";
import { useSession } from "../session-context";
import { useAsync } from "../use-async";
import { TableWrap } from "../components/table-wrap";

interface Filters {
  action: string;
  actor: string;
  target: string;
  since: string;
  until: string;
  limit: string;
}

const EMPTY: Filters = { action: "", actor: "", target: "", since: "", until: "", limit: "100" };

/** The hash-chained audit log: its verification first, then the entries with filters. */
export function AuditPage() {
  const { api } = useSession();
  const verification = useAsync(() => api.get<AuditVerification>("/admin/audit/verify"), [api]);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [applied, setApplied] = useState<Filters>(EMPTY);
  const query = new URLSearchParams(Object.entries(applied).filter(([, value]) => value !== "")).toString();
  const entries = useAsync(() => api.get<List<AuditEntry>>(`/admin/audit?${query}`), [api, query]);

  const input = (name: keyof Filters, label: string, type = "text", help?: string) => (
    <div class="field">
      <label for={`audit-${name}`}>{label}</label>
      <input id={`audit-${name}`} type={type} value={filters[name]} onInput={(event) => setFilters({ ...filters, [name]: event.currentTarget.value })} spellcheck={false} />
      {help != null && <span class="help">{help}</span>}
    </div>
  );

  return (
    <div class="stack">
      <VerificationBanner state={verification.data} error={verification.error} onVerify={verification.reload} busy={verification.loading} />
      <form
        class="toolbar card"
        aria-label="Audit filters"
        onSubmit={(event) => {
          event.preventDefault();
          setApplied(filters);
        }}
      >
        {input("action", "Action", "text", "e.g. key.revoke, or key. for all key actions")}
        {input("actor", "Actor", "text", "e.g. key:… or cli:alice")}
        {input("target", "Target id")}
        {input("since", "From", "date")}
        {input("until", "Before", "date")}
        <div class="field">
          <label for="audit-limit">Show</label>
          <select id="audit-limit" value={filters.limit} onChange={(event) => setFilters({ ...filters, limit: event.currentTarget.value })}>
            <option value="100">newest 100</option>
            <option value="500">newest 500</option>
            <option value="1000">newest 1000</option>
          </select>
        </div>
        <button type="submit">Filter</button>
        <button
          type="button"
          class="secondary"
          onClick={() => {
            setFilters(EMPTY);
            setApplied(EMPTY);
          }}
        >
          Clear
        </button>
      </form>
      <ErrorNote message={entries.error} />
      {entries.data == null ? (
        entries.error == null && <Loading what="the audit log" />
      ) : entries.data.data.length === 0 ? (
        <p class="muted">No entries match.</p>
      ) : (
        <TableWrap label="Audit entries" class="audit">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Time</th>
                <th scope="col">Actor</th>
                <th scope="col">Action</th>
                <th scope="col">Target</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {entries.data.data.map((entry) => (
                <tr key={entry.seq}>
                  <td>{entry.seq}</td>
                  <td>
                    <time dateTime={entry.at}>{formatTime(entry.at)}</time>
                  </td>
                  <td>
                    <code>{entry.actor}</code>
                  </td>
                  <th scope="row">{entry.action}</th>
                  <td>
                    <code>{entry.target}</code>
                  </td>
                  <td class="details">
                    <code>{entry.details == null ? "" : JSON.stringify(entry.details)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </TableWrap>
      )}
    </div>
  );
}

function VerificationBanner({ state, error, onVerify, busy }: { state: AuditVerification | undefined; error: string | null; onVerify: () => void; busy: boolean }) {
  const button = (
    <button type="button" class="secondary" onClick={onVerify} disabled={busy}>
      {busy ? "Verifying…" : "Verify again"}
    </button>
  );
  if (state == null)
    return (
      <section class="banner" aria-live="polite">
        {error != null ? <ErrorNote message={`The chain could not be verified. ${error}`} /> : <p>Verifying the audit chain…</p>}
        {error != null && button}
      </section>
    );
  const ok = state.ok;
  return (
    <section class={`banner ${ok ? "banner-ok" : "banner-bad"}`} aria-labelledby="chain-title" aria-live="polite">
      <h2 id="chain-title">{ok ? "✓ Audit chain intact" : "✗ Audit chain broken: the log was altered"}</h2>
      <p>
        {ok
          ? `All ${formatInt(state.entries)} entries${state.first_seq != null ? ` (#${state.first_seq}–#${state.last_seq})` : ""} link to each other by hash; none was edited, deleted or reordered.`
          : `${state.problems.length} problem(s) found in ${formatInt(state.entries)} entries:`}
      </p>
      {!ok && (
        <ul>
          {state.problems.slice(0, 20).map((problem) => (
            <li key={`${problem.seq}-${problem.kind}`}>
              #{problem.seq} ({problem.kind}): {problem.message}
            </li>
          ))}
        </ul>
      )}
      <p class="small">
        Head hash <code class="hash">{state.head_hash}</code>
        {state.checkpoint != null && (
          <>
            {" "}
            · retention checkpoint at #{state.checkpoint.seq}, signature {state.checkpoint.signature}
          </>
        )}
      </p>
      {button}
    </section>
  );
}
