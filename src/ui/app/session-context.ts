import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { ApiClient } from "./api-client";
import type { ServerStatus } from "./api-types";

export interface Session {
  api: ApiClient;
  /** The signed-in key's role and account, from GET /admin/status. */
  caller: ServerStatus["caller"];
  signOut: () => void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (session == null) throw new Error("useSession outside a signed-in console");
  return session;
}
