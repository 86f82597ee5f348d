import { useCallback, useEffect, useMemo, useState } from "preact/hooks";
import { createApiClient } from "./api-client";
import type { ServerStatus } from "./api-types";
import { AuditPage } from "./pages/audit-page";
import { KeysPage } from "./pages/keys-page";
import { OverviewPage } from "./pages/overview-page";
import { PlaygroundPage } from "./pages/playground-page";
import { PrivacyPage } from "./pages/privacy-page";
import { RequestsPage } from "./pages/requests-page";
import { SignInPage } from "./pages/sign-in-page";
import { UsagePage } from "./pages/usage-page";
import { storedKey, storeKey } from "./session";
import { SessionContext, useSession } from "./session-context";
import { PAGES, useRoute, type PageId } from "./use-route";

const VIEWS: Record<PageId, () => preact.JSX.Element> = {
  overview: OverviewPage,
  keys: KeysPage,
  usage: UsagePage,
  requests: RequestsPage,
  audit: AuditPage,
  privacy: PrivacyPage,
  playground: PlaygroundPage,
};

/** The console: a sign-in form until a key is accepted, then the navigation and the current page. */
export function App() {
  const [key, setKey] = useState<string | null>(storedKey);
  const [caller, setCaller] = useState<ServerStatus["caller"] | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const signOut = useCallback((message: string | null = null) => {
    storeKey(null);
    setKey(null);
    setCaller(null);
    setNotice(message);
  }, []);

  const api = useMemo(
    () => (key == null ? null : createApiClient(key, () => signOut("The server no longer accepts this key (revoked, expired or mistyped). Sign in again."))),
    [key, signOut],
  );

  // A key kept from earlier in this tab is checked again before the console shows anything.
  useEffect(() => {
    if (api == null || caller != null) return;
    api.get<ServerStatus>("/admin/status").then(
      (status) => setCaller(status.caller),
      (error: Error) => signOut(error.message),
    );
  }, [api, caller, signOut]);

  if (key == null || api == null)
    return (
      <SignInPage
        notice={notice}
        onSignedIn={(accepted, acceptedCaller) => {
          storeKey(accepted);
          setNotice(null);
          setCaller(acceptedCaller);
          setKey(accepted);
        }}
      />
    );
  if (caller == null)
    return (
      <main class="centered" aria-busy="true">
        <p>Checking the key…</p>
      </main>
    );
  return (
    <SessionContext.Provider value={{ api, caller, signOut: () => signOut("Signed out. The key is no longer kept in this tab.") }}>
      <Shell />
    </SessionContext.Provider>
  );
}

function Shell() {
  const page = useRoute();
  const { caller, signOut } = useSession();
  const View = VIEWS[page];
  const title = PAGES.find((p) => p.id === page)!.title;
  useEffect(() => {
    document.title = `${title} · Enclave console`;
    document.getElementById("page-title")?.focus();
  }, [title]);
  return (
    <div class="shell">
      <a class="skip" href="#content">
        Skip to content
      </a>
      <header class="topbar">
        <span class="brand">Enclave</span>
        <nav aria-label="Console">
          <ul>
            {PAGES.map((p) => (
              <li key={p.id}>
                <a href={`#/${p.id}`} aria-current={p.id === page ? "page" : undefined}>
                  {p.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <span>
            Signed in as <strong>{caller.role}</strong>
          </span>
          <button type="button" class="secondary" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="content">
        <h1 id="page-title" tabIndex={-1}>
          {title}
        </h1>
        <View />
      </main>
    </div>
  );
}
