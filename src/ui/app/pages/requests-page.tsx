import { useState } from "preact/hooks";
import type { KeyView, List, RequestLogEntry, RequestLogPage } from "../api-types";
import { ErrorNote, Loading } from "../components/notices";
import { TableWrap } from "../components/table-wrap";
import { formatInt } from "../format";
import { useSession } from "../session-context";
import { useAsync } from "../use-async";

const PAGE_SIZE = 50;
const STATUS_FILTERS = [
  { id: "", label: "all" },
  { id: "success", label: "succeeded" },
  { id: "client_error", label: "client errors (4xx)" },
  { id: "server_error", label: "server errors (5xx)" },
] as const;

/** 12:05:09.250 today, or 2025-03-01 12:05:09 on another day, in the browser's time zone. */
function formatWhen(iso: string): string {
  const date = new Date(iso);
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  if (date.toDateString() === new Date().toDateString()) return `${time}.${pad(date.getMilliseconds(), 3)}`;
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${time}`;
}

const ms = (value: number | null) => (value == null ? "—" : `${formatInt(value)} ms`);
const statusClass = (status: number) => (status >= 500 ? "state-failed" : status >= 400 ? "state-loading" : "state-ready");

/**
 * The request log from the metering rows: when, which key, model and endpoint, the status, tokens,
 * time to first token and duration of each /v1 request. Metadata only: the server keeps no
 * prompt or reply to show, and this page asks for none.
 */
export function RequestsPage() {
  const { api } = useSession();
  const [status, setStatus] = useState("");
  const [keyId, setKeyId] = useState("");
  // Older pages are reached by the last id of the page before; the stack lets "Newer" go back.
  const [cursors, setCursors] = useState<string[]>([]);
  const before = cursors.at(-1);
  const query = new URLSearchParams({ limit: String(PAGE_SIZE), ...(status !== "" && { status }), ...(keyId !== "" && { key_id: keyId }), ...(before != null && { before }) }).toString();
  const log = useAsync(() => api.get<RequestLogPage>(`/admin/requests?${query}`), [api, query]);
  const keys = useAsync(() => api.get<List<KeyView>>("/admin/keys?include_revoked=true"), [api]);
  const keyName = new Map((keys.data?.data ?? []).map((key) => [key.id, key.name]));
  const filter = (apply: () => void) => {
    apply();
    setCursors([]);
  };

  return (
    <div class="stack">
      <form class="toolbar card" aria-label="Request log filters" onSubmit={(event) => event.preventDefault()}>
        <div class="field">
          <label for="requests-status">Status</label>
          <select id="requests-status" value={status} onChange={(event) => filter(() => setStatus(event.currentTarget.value))}>
            {STATUS_FILTERS.map((option) => (
              <option key={option.id} value={option.id}>
                {option.label}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="requests-key">Key</label>
          <select id="requests-key" value={keyId} onChange={(event) => filter(() => setKeyId(event.currentTarget.value))}>
            <option value="">all keys</option>
            {(keys.data?.data ?? []).map((key) => (
              <option key={key.id} value={key.id}>
                {key.name}
              </option>
            ))}
          </select>
        </div>
        <button type="button" class="secondary" onClick={() => (cursors.length === 0 ? log.reload() : setCursors([]))}>
          Newest
        </button>
      </form>
      <p class="muted small">
        One row per /v1 request, newest first, kept at request level for the metadata retention window, then rolled up into daily usage. Nothing of a prompt or a reply is stored, so none is shown.
      </p>
      <ErrorNote message={log.error ?? keys.error} />
      {log.data == null ? (
        log.error == null && <Loading what="the request log" />
      ) : log.data.data.length === 0 ? (
        <p class="muted">No requests {cursors.length > 0 ? "older than these" : status !== "" || keyId !== "" ? "match these filters" : "yet"}.</p>
      ) : (
        <TableWrap label="Requests" busy={log.loading}>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Key</th>
              <th scope="col">Model</th>
              <th scope="col">Endpoint</th>
              <th scope="col">Status</th>
              <th scope="col">Prompt tokens</th>
              <th scope="col">Completion tokens</th>
              <th scope="col">TTFT</th>
              <th scope="col">Duration</th>
            </tr>
          </thead>
          <tbody>
            {log.data.data.map((row: RequestLogEntry) => (
              <tr key={row.id}>
                <th scope="row">
                  <time dateTime={row.started_at} title={`request ${row.id}`}>
                    {formatWhen(row.started_at)}
                  </time>
                </th>
                <td>{keyName.get(row.key_id) ?? <code>{row.key_id}</code>}</td>
                <td>{row.model ?? "—"}</td>
                <td>
                  <code>{row.endpoint}</code>
                </td>
                <td>
                  <span class={`state ${statusClass(row.status)}`}>{row.status}</span>
                  {row.error_code != null && <span class="muted small"> {row.error_code}</span>}
                </td>
                <td>{formatInt(row.prompt_tokens)}</td>
                <td>{formatInt(row.completion_tokens)}</td>
                <td>{ms(row.ttft_ms)}</td>
                <td>{ms(row.duration_ms)}</td>
              </tr>
            ))}
          </tbody>
        </TableWrap>
      )}
      <div class="buttons">
        <button type="button" class="secondary" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
          Newer
        </button>
        <button type="button" class="secondary" disabled={log.data?.has_more !== true} onClick={() => setCursors([...cursors, log.data!.data.at(-1)!.id])}>
          Older
        </button>
      </div>
    </div>
  );
}
