import type { Actor } from "../accounts/actor";
import type { AuditEntry } from "../audit/append-audit";
import type { AccountRow, ApiKeyRow } from "../db/schema";

/** What a key change is about: the repository reads its scene inside the change's transaction. */
export interface KeyTarget {
  actor: Actor;
  /** The key changed (update, revoke). */
  keyId?: string;
  /** The account a key is created in; default the changed key's. */
  accountId?: string;
  /** A name the change gives a key. */
  name?: string;
}

/** What a key decision sees, read in the change's transaction: nothing it checked can change before the write. */
export interface KeyScene {
  /** The accounts the actor may see and manage. */
  visible: "all" | Set<string>;
  /** A non-admin actor's own key; null for an admin, or when the key is gone. */
  caller: ApiKeyRow | null;
  /** The caller key's account and those above it, nearest first. */
  callerChain: AccountRow[];
  /** The key changed, if it exists. */
  key: ApiKeyRow | null;
  /** The target account (deleted or not) and those above it, nearest first; empty when there is none. */
  chain: AccountRow[];
  /** The id of the target account's live key holding `name`, if any. */
  nameHolder: string | null;
}

export type KeyChange =
  | { at: Date; write: { insert: ApiKeyRow } | { update: Partial<Omit<ApiKeyRow, "id">> }; audit: AuditEntry }
  /** Nothing to write: this row is the answer. */
  | { unchanged: ApiKeyRow };

/** Which keys a list returns. */
export interface KeyFilter {
  accountId?: string;
  includeRevoked?: boolean;
}

/** The key aggregate: API keys (stored only as peppered hashes), on either backend. */
export interface KeyRepository {
  byId(id: string): Promise<ApiKeyRow | undefined>;
  /** Every key whose lookup prefix is `lookup`: the candidates a presented secret is compared with. */
  byLookup(lookup: string): Promise<ApiKeyRow[]>;
  /** Oldest first. */
  list(filter: KeyFilter): Promise<ApiKeyRow[]>;
  /** One change and its audit entry, all or nothing, as AccountRepository.change. Returns the row as written. */
  change(target: KeyTarget, decide: (scene: KeyScene) => KeyChange): Promise<ApiKeyRow>;
}
