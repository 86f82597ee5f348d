import type { ServerStatus } from "../api-types";
import { LineChart } from "../components/line-chart";
import { ErrorNote, Loading, Stat } from "../components/notices";
import { formatInt, formatNumber, formatPercent } from "../format";
import { useSession } from "../session-context";
import { useAsync } from "../use-async";
import { TableWrap } from "../components/table-wrap";

const REFRESH_MS = 3000;

/** Models, queues, speculative decoding and recent traffic, refreshed every few seconds. */
export function OverviewPage() {
  const { api } = useSession();
  const status = useAsync(() => api.get<ServerStatus>("/admin/status"), [api], REFRESH_MS);
  const data = status.data;
  if (data == null) return status.error != null ? <ErrorNote message={status.error} /> : <Loading what="the server status" />;

  const { recent } = data;
  const queued = data.models.reduce((sum, model) => sum + model.queue_depth, 0);
  const busy = data.models.reduce((sum, model) => sum + model.busy_sequences, 0);
  const slots = data.models.filter((model) => model.state === "ready").reduce((sum, model) => sum + model.parallel, 0);
  const x = data.per_minute.map((point) => Date.parse(point.at) / 1000);

  return (
    <div class="stack">
      <ErrorNote message={status.error} />
      <section aria-labelledby="now-title">
        <h2 id="now-title">
          Now <span class="muted small">(last {recent.window_seconds / 60} minutes, refreshed every {REFRESH_MS / 1000} s)</span>
        </h2>
        <dl class="stats">
          <Stat label="Requests" value={formatInt(recent.requests)} />
          <Stat label="Client errors (4xx)" value={formatPercent(recent.client_error_rate)} note={`${formatInt(recent.client_errors)} refused: bad requests, limits, unknown models`} />
          <Stat label="Server errors (5xx)" value={formatPercent(recent.server_error_rate)} note={`${formatInt(recent.server_errors)} failed here: engine faults, overload, timeouts`} />
          <Stat label="Tokens/s per request" value={formatNumber(recent.tokens_per_second)} note="while generating" />
          <Stat label="Throughput" value={`${formatNumber(recent.throughput_tokens_per_second)} tok/s`} note="over the window" />
          <Stat label="Queue depth" value={formatInt(queued)} note="requests waiting for a sequence" />
          <Stat label="Sequences busy" value={`${formatInt(busy)} / ${formatInt(slots)}`} />
        </dl>
      </section>

      <section aria-labelledby="traffic-title" class="card">
        <h2 id="traffic-title">Traffic, last 30 minutes</h2>
        <LineChart
          title="Completion tokens (left axis), requests, client errors and server errors (right axis) per minute, last 30 minutes"
          x={x}
          series={[
            { label: "completion tokens / min", values: data.per_minute.map((point) => point.completion_tokens) },
            { label: "requests / min (right axis)", values: data.per_minute.map((point) => point.requests), axis: "right" },
            { label: "client errors (4xx) / min (right axis)", values: data.per_minute.map((point) => point.client_errors), axis: "right" },
            { label: "server errors (5xx) / min (right axis)", values: data.per_minute.map((point) => point.server_errors), axis: "right" },
          ]}
        />
      </section>

      <section aria-labelledby="models-title">
        <h2 id="models-title">Models</h2>
        <TableWrap label="Models">
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col">State</th>
                <th scope="col">Context</th>
                <th scope="col">Sequences busy</th>
                <th scope="col">Queued</th>
                <th scope="col">Speculative</th>
                <th scope="col">Draft now</th>
                <th scope="col">Acceptance</th>
                <th scope="col">Prompt cache</th>
              </tr>
            </thead>
            <tbody>
              {data.models.map((model) => (
                <tr key={model.id}>
                  <th scope="row">
                    {model.id}
                    {model.default && <span class="tag">default</span>}
                  </th>
                  <td>
                    <span class={`state state-${model.state}`}>{model.state}</span>
                  </td>
                  <td>{formatInt(model.context_size)} tokens</td>
                  <td>
                    {model.busy_sequences} / {model.parallel}
                  </td>
                  <td>{model.queue_depth}</td>
                  <td>{model.speculative.mode === "none" ? "off" : model.speculative.mode}</td>
                  <td>{model.speculative.mode === "none" ? "—" : model.speculative.active ? "on" : "paused (adaptive)"}</td>
                  <td>
                    {formatPercent(model.speculative.acceptance)}
                    {model.speculative.draft_tokens_proposed > 0 && (
                      <span class="muted small">
                        {" "}
                        ({formatInt(model.speculative.draft_tokens_accepted)} of {formatInt(model.speculative.draft_tokens_proposed)} drafted)
                      </span>
                    )}
                  </td>
                  <td>
                    {model.prompt_cache == null || model.prompt_cache.scope === "off"
                      ? "off"
                      : `${formatInt(model.prompt_cache.cached_tokens)} tokens in ${model.prompt_cache.cached_sequences} of ${model.parallel} (per ${model.prompt_cache.scope})`}
                  </td>
                </tr>
              ))}
            </tbody>
          </TableWrap>
      </section>
      <p class="muted small">
        Enclave {data.version} · up {formatUptime(data.uptime_seconds)}. Prometheus metrics with more detail are served at <code>/metrics</code>.
      </p>
    </div>
  );
}

function formatUptime(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} days`;
}
