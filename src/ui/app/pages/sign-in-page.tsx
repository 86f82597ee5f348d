import { useState } from "preact/hooks";
import { createApiClient } from "../api-client";
import type { ServerStatus } from "../api-types";
import { ErrorNote } from "../components/notices";

export interface SignInProps {
  notice: string | null;
  onSignedIn: (key: string, caller: ServerStatus["caller"]) => void;
}

/** Asks for an admin or manager API key and checks it against GET /admin/status before keeping it. */
export function SignInPage({ notice, onSignedIn }: SignInProps) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    const candidate = key.trim();
    if (candidate === "") {
      setError("Enter an API key.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const status = await createApiClient(candidate, () => {}).get<ServerStatus>("/admin/status");
      onSignedIn(candidate, status.caller);
    } catch (caught) {
      setError((caught as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="centered">
      <form class="card sign-in" onSubmit={submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Enclave console</h1>
        {notice != null && (
          <p class="notice" role="status">
            {notice}
          </p>
        )}
        <label for="api-key">Admin or manager API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autocomplete="off"
          spellcheck={false}
          placeholder="enk_…"
          value={key}
          onInput={(event) => setKey(event.currentTarget.value)}
          aria-describedby="api-key-help"
          required
        />
        <p id="api-key-help" class="muted small">
          The key stays in this browser tab only (session storage, no cookies) and is sent to this server alone. Closing the tab or signing out forgets it. Create the first admin key on the server with{" "}
          <code>enclave keys create --role admin --name NAME</code>.
        </p>
        <ErrorNote message={error} />
        <button type="submit" disabled={busy}>
          {busy ? "Checking…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
