import type { Actor } from "../accounts/actor";
import type { AuditEntry } from "../audit/append-audit";
import type { AccountRow } from "../db/schema";

/** What an account change is about: the repository reads its scene inside the change's transaction. */
export interface AccountTarget {
  actor: Actor;
  /** The account changed, or for a create its parent (null: a top-level account). */
  accountId: string | null;
  /** A name the change gives an account. */
  name?: string;
  /** Whether the decision needs what lies below the account (a delete, a narrowed allowed_regions). */
  below?: boolean;
}

/** An allowed_regions list below an account, and whose it is as a message names it. */
export interface RegionList {
  what: string;
  regions: string[];
}

/** What an account decision sees, read in the change's transaction: nothing it checked can change before the write. */
export interface AccountScene {
  /** The accounts the actor may see and manage. */
  visible: "all" | Set<string>;
  /** A non-admin actor's own account and those above it, nearest first; empty for an admin or when it has none. */
  own: AccountRow[];
  /** The target account (deleted or not) and those above it, nearest first; empty when there is none. */
  chain: AccountRow[];
  /** The id of the live account holding `name`, if any. */
  nameHolder: string | null;
  /** With `below`: the target's subtree (itself included), a live sub-account if any, and the lists of live sub-accounts and live keys there. */
  below: { subtree: string[]; liveChild: string | null; regionLists: RegionList[] } | null;
}

export type AccountWrite =
  | { insert: AccountRow }
  /** Sets these fields on the target. */
  | { update: Partial<Omit<AccountRow, "id">> }
  /** Marks the target deleted and revokes its live keys. */
  | { delete: true }
  /** Adds millionths to the target's balance (none yet: from 0) in SQL, so a charge landing meanwhile is not lost. */
  | { credit: number };

export interface AccountChange {
  at: Date;
  write: AccountWrite;
  /** The entry recording the change, from the row as written (a credit's balance is known only then). */
  audit(row: AccountRow): AuditEntry;
}

/** The account aggregate: the account tree, its limits and wallets, on either backend. */
export interface AccountRepository {
  byId(id: string): Promise<AccountRow | undefined>;
  liveById(id: string): Promise<AccountRow | undefined>;
  liveByName(name: string): Promise<AccountRow | undefined>;
  /** Live accounts, oldest first. */
  listLive(): Promise<AccountRow[]>;
  /** `account` and every account above it, nearest first, read now (a limit changed a moment ago holds). */
  chain(account: AccountRow): Promise<AccountRow[]>;
  /** An account's id and those of every account below it, deleted ones included (their usage stays visible). */
  subtree(rootId: string): Promise<string[]>;
  /** All for an admin, its own tree for a manager, none for a user. */
  visible(actor: Actor): Promise<"all" | Set<string>>;
  /**
   * One change and its audit entry, all or nothing: reads the scene, lets `decide` check it and
   * say what to write (or throw), writes that and appends the entry. Changes to accounts and keys
   * queue behind each other (other nodes' included), so a decision never acts on a stale scene.
   * Returns the row as written.
   */
  change(target: AccountTarget, decide: (scene: AccountScene) => AccountChange): Promise<AccountRow>;
}

/** The id of a change's existing target; a decision that let such a change through without one is a bug, not a request error. */
export function changedId(id: string | null | undefined): string {
  if (id == null) throw new Error("a change that writes an existing row needs its id");
  return id;
}
