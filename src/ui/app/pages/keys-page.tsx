import { useEffect, useRef, useState } from "preact/hooks";
import type { AccountView, CreatedKey, KeyView, List } from "../api-types";
import { LimitsFields } from "../components/limits-fields";
import { ModalDialog } from "../components/modal-dialog";
import { ErrorNote, Loading } from "../components/notices";
import { formatInt, formatTime } from "../format";
import { EMPTY_LIMITS, limitsOf, limitsPayload, type LimitsDraft, type LimitsSource } from "../limits-form";
import { useSession } from "../session-context";
import { useAsync } from "../use-async";
import { TableWrap } from "../components/table-wrap";

/** Keys and accounts: list, create (the secret shown once), revoke, edit limits. */
export function KeysPage() {
  const { api } = useSession();
  const [showRevoked, setShowRevoked] = useState(false);
  const keys = useAsync(() => api.get<List<KeyView>>(`/admin/keys${showRevoked ? "?include_revoked=true" : ""}`), [api, showRevoked]);
  const accounts = useAsync(() => api.get<List<AccountView>>("/admin/accounts"), [api]);
  const [created, setCreated] = useState<CreatedKey | null>(null);
  const [dialog, setDialog] = useState<{ kind: "create-key" } | { kind: "edit-key"; key: KeyView } | { kind: "create-account" } | { kind: "edit-account"; account: AccountView } | null>(null);
  const accountNames = new Map((accounts.data?.data ?? []).map((account) => [account.id, account.name]));
  const close = () => setDialog(null);

  return (
    <div class="stack">
      {created != null && <SecretPanel created={created} onDone={() => setCreated(null)} />}

      <section aria-labelledby="keys-title">
        <div class="section-head">
          <h2 id="keys-title">API keys</h2>
          <label class="inline">
            <input type="checkbox" checked={showRevoked} onChange={(event) => setShowRevoked(event.currentTarget.checked)} /> Show revoked keys
          </label>
          <button type="button" onClick={() => setDialog({ kind: "create-key" })}>
            Create key
          </button>
        </div>
        <ErrorNote message={keys.error} />
        {keys.data == null ? (
          keys.error == null && <Loading what="keys" />
        ) : (
          <KeyTable keys={keys.data.data} accountNames={accountNames} onEdit={(key) => setDialog({ kind: "edit-key", key })} onChanged={keys.reload} />
        )}
      </section>

      <section aria-labelledby="accounts-title">
        <div class="section-head">
          <h2 id="accounts-title">Accounts</h2>
          <button type="button" onClick={() => setDialog({ kind: "create-account" })}>
            Create account
          </button>
        </div>
        <ErrorNote message={accounts.error} />
        {accounts.data == null ? (
          accounts.error == null && <Loading what="accounts" />
        ) : (
          <AccountTable accounts={accounts.data.data} accountNames={accountNames} onEdit={(account) => setDialog({ kind: "edit-account", account })} onChanged={accounts.reload} />
        )}
      </section>

      {dialog?.kind === "create-key" && (
        <KeyDialog
          accounts={accounts.data?.data ?? []}
          onClose={close}
          onSaved={(key) => {
            close();
            setCreated(key as CreatedKey);
            keys.reload();
          }}
        />
      )}
      {dialog?.kind === "edit-key" && (
        <KeyDialog
          accounts={accounts.data?.data ?? []}
          editing={dialog.key}
          onClose={close}
          onSaved={() => {
            close();
            keys.reload();
          }}
        />
      )}
      {(dialog?.kind === "create-account" || dialog?.kind === "edit-account") && (
        <AccountDialog
          accounts={accounts.data?.data ?? []}
          editing={dialog.kind === "edit-account" ? dialog.account : undefined}
          onClose={close}
          onSaved={() => {
            close();
            accounts.reload();
          }}
        />
      )}
    </div>
  );
}

/** The new key's secret, once: it is in this component's state and nowhere else in the page. */
function SecretPanel({ created, onDone }: { created: CreatedKey; onDone: () => void }) {
  const [copied, setCopied] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => heading.current?.focus(), []);

  async function copy() {
    try {
      await navigator.clipboard.writeText(created.secret);
      setCopied("Copied to the clipboard.");
    } catch {
      input.current?.select();
      setCopied("The browser did not allow copying: the secret is selected, press Ctrl+C (⌘C on a Mac).");
    }
  }

  return (
    <section class="secret-panel" aria-labelledby="secret-title">
      <h2 id="secret-title" ref={heading} tabIndex={-1}>
        Key “{created.name}” created
      </h2>
      <p>
        <strong>Copy the secret now: you will not see it again.</strong> Enclave stores only a hash of it; if it is lost, revoke the key and create a new one.
      </p>
      <div class="secret-row">
        <label for="new-secret" class="visually-hidden">
          Secret of the new key
        </label>
        <input id="new-secret" ref={input} readOnly value={created.secret} spellcheck={false} onFocus={(event) => event.currentTarget.select()} />
        <button type="button" onClick={copy}>
          Copy
        </button>
      </div>
      <p role="status" class="small">
        {copied}
      </p>
      <button type="button" class="secondary" onClick={onDone}>
        I have stored it — hide the secret
      </button>
    </section>
  );
}

function limitsSummary(row: LimitsSource): string {
  const parts: string[] = [];
  if (row.concurrency != null) parts.push(`${row.concurrency} at once`);
  if (row.rpm != null) parts.push(row.rpm === 0 ? "no rpm limit" : `${formatInt(row.rpm)} req/min`);
  if (row.tpm != null) parts.push(row.tpm === 0 ? "no tpm limit" : `${formatInt(row.tpm)} tok/min`);
  if (row.budget_period != null) {
    if (row.budget_tokens != null) parts.push(`${formatInt(row.budget_tokens)} tok/${row.budget_period}`);
    if (row.budget_cost != null) parts.push(`${row.budget_cost}/${row.budget_period}`);
  }
  if (row.models != null) parts.push(`models: ${row.models.join(", ")}`);
  if (row.allowed_ips != null) parts.push(`from ${row.allowed_ips.join(", ")}`);
  if (row.allowed_regions != null) parts.push(`regions: ${row.allowed_regions.join(", ")}`);
  return parts.length === 0 ? "defaults" : parts.join(" · ");
}

function keyState(key: KeyView): string {
  if (key.revoked_at != null) return "revoked";
  if (key.expires_at != null && Date.parse(key.expires_at) <= Date.now()) return "expired";
  return "active";
}

function KeyTable({ keys, accountNames, onEdit, onChanged }: { keys: KeyView[]; accountNames: Map<string, string>; onEdit: (key: KeyView) => void; onChanged: () => void }) {
  const { api, caller } = useSession();
  const [confirming, setConfirming] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);

  async function revoke(key: KeyView) {
    setError(null);
    try {
      await api.delete(`/admin/keys/${encodeURIComponent(key.id)}`);
      setStatus(`Key “${key.name}” revoked. It no longer works.`);
      setConfirming(null);
      onChanged();
    } catch (caught) {
      setError((caught as Error).message);
    }
  }

  if (keys.length === 0) return <p class="muted">No keys yet.</p>;
  return (
    <>
      <ErrorNote message={error} />
      <p role="status" class="small">
        {status}
      </p>
      <TableWrap label="API keys" class="keys">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Key</th>
              <th scope="col">Role</th>
              <th scope="col">Account</th>
              <th scope="col">Limits</th>
              <th scope="col">Requests</th>
              <th scope="col">Last used</th>
              <th scope="col">State</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys.map((key) => {
              const state = keyState(key);
              const self = key.id === caller.key_id;
              return (
                <tr key={key.id} data-key-id={key.id}>
                  <th scope="row">
                    {key.name}
                    {self && <span class="tag">you</span>}
                  </th>
                  <td>
                    <code>{key.prefix}</code>
                  </td>
                  <td>{key.role}</td>
                  <td>{accountNames.get(key.account_id) ?? key.account_id}</td>
                  <td class="small">{limitsSummary(key)}</td>
                  <td>{formatInt(key.usage?.requests ?? 0)}</td>
                  <td>{formatTime(key.last_used_at)}</td>
                  <td>
                    <span class={`state state-${state}`}>{state}</span>
                  </td>
                  <td class="actions">
                    {state !== "revoked" &&
                      (confirming === key.id ? (
                        <span class="confirm" role="group" aria-label={`Confirm revoking ${key.name}`}>
                          <span class="small">Revoke “{key.name}”? It stops working at once.</span>
                          <button type="button" class="danger" onClick={() => revoke(key)}>
                            Revoke key
                          </button>
                          <button type="button" class="secondary" onClick={() => setConfirming(null)}>
                            Cancel
                          </button>
                        </span>
                      ) : (
                        <>
                          <button type="button" class="secondary" onClick={() => onEdit(key)} aria-label={`Edit limits of ${key.name}`}>
                            Edit
                          </button>
                          {!self && (
                            <button type="button" class="danger-outline" onClick={() => setConfirming(key.id)} aria-label={`Revoke ${key.name}`}>
                              Revoke
                            </button>
                          )}
                        </>
                      ))}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </TableWrap>
    </>
  );
}

function KeyDialog({ accounts, editing, onClose, onSaved }: { accounts: AccountView[]; editing?: KeyView; onClose: () => void; onSaved: (key: KeyView | CreatedKey) => void }) {
  const { api, caller } = useSession();
  const [name, setName] = useState(editing?.name ?? "");
  const [role, setRole] = useState<KeyView["role"]>(editing?.role ?? "user");
  const [accountId, setAccountId] = useState(editing?.account_id ?? caller.account_id ?? accounts[0]?.id ?? "");
  const [limits, setLimits] = useState<LimitsDraft>(editing != null ? limitsOf(editing) : EMPTY_LIMITS);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = { name: name.trim(), ...limitsPayload(limits, "key") };
      const saved =
        editing != null
          ? await api.patch<KeyView>(`/admin/keys/${encodeURIComponent(editing.id)}`, body)
          : await api.post<CreatedKey>("/admin/keys", { ...body, role, ...(accountId !== "" && { account_id: accountId }) });
      onSaved(saved);
    } catch (caught) {
      setError((caught as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <ModalDialog title={editing != null ? `Edit key “${editing.name}”` : "Create an API key"} onClose={onClose}>
      <form onSubmit={submit} class="stack">
        <div class="grid">
          <div class="field">
            <label for="key-name">Name</label>
            <input id="key-name" value={name} onInput={(event) => setName(event.currentTarget.value)} required maxLength={64} autocomplete="off" />
          </div>
          {editing == null && (
            <>
              <div class="field">
                <label for="key-role">Role</label>
                <select id="key-role" value={role} onChange={(event) => setRole(event.currentTarget.value as KeyView["role"])}>
                  <option value="user">user: inference only</option>
                  <option value="manager">manager: its account tree</option>
                  {caller.role === "admin" && <option value="admin">admin: everything</option>}
                </select>
              </div>
              <div class="field">
                <label for="key-account">Account</label>
                <select id="key-account" value={accountId} onChange={(event) => setAccountId(event.currentTarget.value)}>
                  {accounts.map((account) => (
                    <option key={account.id} value={account.id}>
                      {account.name}
                    </option>
                  ))}
                </select>
              </div>
            </>
          )}
        </div>
        <LimitsFields idPrefix="key" kind="key" draft={limits} onChange={setLimits} />
        <ErrorNote message={error} />
        <div class="buttons">
          <button type="submit" disabled={busy}>
            {editing != null ? "Save" : "Create key"}
          </button>
          <button type="button" class="secondary" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </ModalDialog>
  );
}

function AccountTable({ accounts, accountNames, onEdit, onChanged }: { accounts: AccountView[]; accountNames: Map<string, string>; onEdit: (account: AccountView) => void; onChanged: () => void }) {
  const { api, caller } = useSession();
  const [crediting, setCrediting] = useState<string | null>(null);
  const [amount, setAmount] = useState("");
  const [error, setError] = useState<string | null>(null);

  async function addCredits(account: AccountView) {
    setError(null);
    try {
      await api.post(`/admin/accounts/${encodeURIComponent(account.id)}/credits`, { amount: Number(amount) });
      setCrediting(null);
      setAmount("");
      onChanged();
    } catch (caught) {
      setError((caught as Error).message);
    }
  }

  return (
    <>
      <ErrorNote message={error} />
      <TableWrap label="Accounts">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Parent</th>
              <th scope="col">Limits</th>
              <th scope="col">Credits</th>
              <th scope="col">Created</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {accounts.map((account) => (
              <tr key={account.id}>
                <th scope="row">{account.name}</th>
                <td>{account.parent_id == null ? "—" : (accountNames.get(account.parent_id) ?? account.parent_id)}</td>
                <td class="small">{limitsSummary(account)}</td>
                <td>{account.credits == null ? "no wallet" : account.credits}</td>
                <td>{formatTime(account.created_at)}</td>
                <td class="actions">
                  {crediting === account.id ? (
                    <form
                      class="confirm"
                      onSubmit={(event) => {
                        event.preventDefault();
                        void addCredits(account);
                      }}
                    >
                      <label for={`credits-${account.id}`} class="small">
                        Add credits
                      </label>
                      <input id={`credits-${account.id}`} type="number" min={0} step="any" value={amount} onInput={(event) => setAmount(event.currentTarget.value)} required />
                      <button type="submit">Add</button>
                      <button type="button" class="secondary" onClick={() => setCrediting(null)}>
                        Cancel
                      </button>
                    </form>
                  ) : (
                    <>
                      <button type="button" class="secondary" onClick={() => onEdit(account)} aria-label={`Edit limits of account ${account.name}`}>
                        Edit
                      </button>
                      {caller.role === "admin" && (
                        <button type="button" class="secondary" onClick={() => setCrediting(account.id)} aria-label={`Add credits to ${account.name}`}>
                          Credits
                        </button>
                      )}
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </TableWrap>
    </>
  );
}

function AccountDialog({ accounts, editing, onClose, onSaved }: { accounts: AccountView[]; editing?: AccountView; onClose: () => void; onSaved: () => void }) {
  const { api, caller } = useSession();
  const [name, setName] = useState(editing?.name ?? "");
  const [parentId, setParentId] = useState(caller.account_id ?? accounts[0]?.id ?? "");
  const [limits, setLimits] = useState<LimitsDraft>(editing != null ? limitsOf(editing) : EMPTY_LIMITS);
  const [error, setError] = useState<string | null>(null);

  async function submit(event: Event) {
    event.preventDefault();
    setError(null);
    try {
      const body = { name: name.trim(), ...limitsPayload(limits, "account") };
      if (editing != null) await api.patch(`/admin/accounts/${encodeURIComponent(editing.id)}`, body);
      else await api.post("/admin/accounts", { ...body, ...(parentId !== "" && { parent_id: parentId }) });
      onSaved();
    } catch (caught) {
      setError((caught as Error).message);
    }
  }

  return (
    <ModalDialog title={editing != null ? `Edit account “${editing.name}”` : "Create an account"} onClose={onClose}>
      <form onSubmit={submit} class="stack">
        <div class="grid">
          <div class="field">
            <label for="account-name">Name</label>
            <input id="account-name" value={name} onInput={(event) => setName(event.currentTarget.value)} required maxLength={64} autocomplete="off" />
          </div>
          {editing == null && (
            <div class="field">
              <label for="account-parent">Under account</label>
              <select id="account-parent" value={parentId} onChange={(event) => setParentId(event.currentTarget.value)}>
                {accounts.map((account) => (
                  <option key={account.id} value={account.id}>
                    {account.name}
                  </option>
                ))}
              </select>
            </div>
          )}
        </div>
        <LimitsFields idPrefix="account" kind="account" draft={limits} onChange={setLimits} />
        <ErrorNote message={error} />
        <div class="buttons">
          <button type="submit">{editing != null ? "Save" : "Create account"}</button>
          <button type="button" class="secondary" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </ModalDialog>
  );
}
