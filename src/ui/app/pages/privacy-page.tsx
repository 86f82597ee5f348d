import type { ComponentChildren } from "preact";
import type { ResidencyReport, RetentionSummary } from "../api-types";
import { ErrorNote, Loading } from "../components/notices";
import { formatInt, formatTime } from "../format";
import { useSession } from "../session-context";
import { useAsync } from "../use-async";
import { TableWrap } from "../components/table-wrap";

const PAYLOAD_MODES: Record<string, string> = {
  none: "Zero data retention: no prompt or completion is ever written to disk.",
  anonymized: "Prompts and completions are kept encrypted, linked only to an internal request id.",
  full: "Prompts and completions are kept encrypted, with their account and key.",
};

/** The retention policy and consents, and the residency report as an auditor reads it. */
export function PrivacyPage() {
  const { api } = useSession();
  const retention = useAsync(() => api.optional<RetentionSummary>("/admin/retention"), [api]);
  const residency = useAsync(() => api.optional<ResidencyReport>("/admin/residency"), [api]);
  return (
    <div class="stack">
      <section class="card" aria-labelledby="retention-title">
        <h2 id="retention-title">Retention</h2>
        <ErrorNote message={retention.error} />
        {retention.data === undefined ? retention.error == null && <Loading what="the retention policy" /> : retention.data === null ? <p class="muted">This server does not report its retention policy.</p> : <Retention summary={retention.data} />}
      </section>
      <section class="card" aria-labelledby="residency-title">
        <h2 id="residency-title">Residency report</h2>
        <ErrorNote message={residency.error} />
        {residency.data === undefined ? residency.error == null && <Loading what="the residency report" /> : residency.data === null ? <p class="muted">This server does not serve a residency report.</p> : <Residency report={residency.data} />}
      </section>
    </div>
  );
}

function Row({ term, children }: { term: string; children: ComponentChildren }) {
  return (
    <div class="row">
      <dt>{term}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function Retention({ summary }: { summary: RetentionSummary }) {
  const days = (n: number) => (n === 0 ? "kept indefinitely" : `${formatInt(n)} days`);
  return (
    <>
      <p class={summary.payloads === "none" ? "banner banner-ok" : "banner"}>
        <strong>Payloads: {summary.payloads}.</strong> {PAYLOAD_MODES[summary.payloads] ?? ""}
      </p>
      <dl class="facts">
        <Row term="Payloads kept for">{summary.payloads === "none" ? "not kept" : days(summary.payload_days)}</Row>
        <Row term="Per-request metadata kept for">{days(summary.metadata_detail_days)}</Row>
        <Row term="Security data (client IPs) kept for">{days(summary.security_days)}</Row>
        <Row term="Audit log kept for">{days(summary.audit_days)}</Row>
        <Row term="Purge runs every">{formatInt(summary.purge_interval_minutes)} minutes</Row>
        <Row term="Payload encryption key">{summary.payload_key == null ? "none configured" : <code>{summary.payload_key.fingerprint}</code>}</Row>
        {summary.retained_payloads !== undefined && <Row term="Payloads stored now">{formatInt(summary.retained_payloads)}</Row>}
      </dl>
      <h3>Stricter overrides</h3>
      {summary.overrides.length === 0 ? (
        <p class="muted">None.</p>
      ) : (
        <ul>
          {summary.overrides.map((override, i) => (
            <li key={i}>
              {"account_id" in override ? `account ${String(override.account_id)}` : `key ${String((override as { key_id?: string }).key_id)}`}: payloads {override.payloads}, set by <code>{override.set_by}</code> on {formatTime(override.set_at)}
            </li>
          ))}
        </ul>
      )}
      <h3>Active consents</h3>
      {summary.active_consents.length === 0 ? (
        <p class="muted">None: no account has consented to payload retention.</p>
      ) : (
        <TableWrap label="Active consents">
            <thead>
              <tr>
                <th scope="col">Account</th>
                <th scope="col">Mode</th>
                <th scope="col">Purposes</th>
                <th scope="col">Days</th>
                <th scope="col">Granted by</th>
                <th scope="col">Granted</th>
              </tr>
            </thead>
            <tbody>
              {summary.active_consents.map((consent) => (
                <tr key={consent.id}>
                  <th scope="row">
                    <code>{consent.account_id}</code>
                  </th>
                  <td>{consent.mode}</td>
                  <td>{Array.isArray(consent.purposes) ? consent.purposes.join(", ") : String(consent.purposes)}</td>
                  <td>{consent.retention_days}</td>
                  <td>{consent.granted_by}</td>
                  <td>{formatTime(consent.granted_at)}</td>
                </tr>
              ))}
            </tbody>
          </TableWrap>
      )}
    </>
  );
}

function Residency({ report }: { report: ResidencyReport }) {
  return (
    <>
      {report.violations.length === 0 ? (
        <p class="banner banner-ok">
          <strong>The running configuration keeps its own residency rules.</strong>
        </p>
      ) : (
        <div class="banner banner-bad">
          <strong>{report.violations.length} violation(s) of the declared residency:</strong>
          <ul>
            {report.violations.map((violation, i) => (
              <li key={i}>
                <code>{violation.key}</code>: {violation.message}
              </li>
            ))}
          </ul>
        </div>
      )}
      <dl class="facts">
        <Row term="Region">{report.region ?? "not declared"}</Row>
        <Row term="Allowed regions">{report.allowed_regions == null ? "any" : report.allowed_regions.join(", ")}</Row>
        <Row term="Egress">{report.egress === "deny" ? "deny: no outbound connection at all" : "allow-listed: only to declared upstreams in allowed regions"}</Row>
        <Row term="Allowed paths">{report.allowed_paths.length === 0 ? "not restricted" : report.allowed_paths.map((path) => <code key={path}>{path} </code>)}</Row>
        <Row term="Data directory">
          <code>{report.paths.data_dir}</code>
        </Row>
        <Row term="Store">
          <code>{report.paths.store}</code> ({report.store.kind === "sqlite" ? "SQLite, this machine" : `Postgres, ${report.store.on_this_machine ? "this machine" : `region ${report.store.region ?? "not declared"}`}`})
        </Row>
        <Row term="Temporary files">
          <code>{report.paths.temp_dir}</code>
        </Row>
        <Row term="Runtime directory">{report.paths.runtime_dir == null ? "— (not the compiled binary)" : <code>{report.paths.runtime_dir}</code>}</Row>
        <Row term="Config hash">
          <code class="hash">{report.config_hash}</code>
        </Row>
        <Row term="Enclave version">{report.enclave_version}</Row>
        <Row term="Generated">{formatTime(report.generated_at)}</Row>
      </dl>
      <h3>Models</h3>
      <TableWrap label="Model files">
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col">File</th>
              <th scope="col">Draft file</th>
            </tr>
          </thead>
          <tbody>
            {report.paths.models.map((model) => (
              <tr key={model.id}>
                <th scope="row">{model.id}</th>
                <td>
                  <code>{model.path}</code>
                </td>
                <td>{model.draft == null ? "—" : <code>{model.draft}</code>}</td>
              </tr>
            ))}
          </tbody>
        </TableWrap>
      <h3>Backends</h3>
      <TableWrap label="Backends">
          <thead>
            <tr>
              <th scope="col">Backend</th>
              <th scope="col">Kind</th>
              <th scope="col">Region</th>
              <th scope="col">Models</th>
              <th scope="col">Address</th>
            </tr>
          </thead>
          <tbody>
            {report.backends.map((backend) => (
              <tr key={backend.id}>
                <th scope="row">{backend.id}</th>
                <td>{backend.kind}</td>
                <td>{backend.region ?? "—"}</td>
                <td>{backend.models.join(", ")}</td>
                <td>{backend.url == null ? "this machine" : <code>{backend.url}</code>}</td>
              </tr>
            ))}
          </tbody>
        </TableWrap>
    </>
  );
}
