import { count, getTableColumns, sql } from "drizzle-orm";
import { verifyAudit } from "../audit/verify-audit";
import type { Store } from "../db/client";
import type { PgStore } from "../db/pg-client";
import * as pg from "../db/pg-schema";
import * as lite from "../db/schema";
import { createPgAuditRepository } from "./pg-audit-repository";
import { SharedStoreError } from "../db/shared-store-error";

/** Rows per INSERT: well under Postgres's 65,535 parameters for the widest table (17 columns). */
const BATCH = 500;

/** The tables in an order that satisfies the foreign keys and the audit triggers (checkpoints before the entries that link to them). */
const TABLES = [
  ["instance", lite.instance, pg.instance],
  ["accounts", lite.accounts, pg.accounts],
  ["api_keys", lite.apiKeys, pg.apiKeys],
  ["consents", lite.consents, pg.consents],
  ["retention_overrides", lite.retentionOverrides, pg.retentionOverrides],
  ["retained_payloads", lite.retainedPayloads, pg.retainedPayloads],
  ["usage_events", lite.usageEvents, pg.usageEvents],
  ["usage_daily", lite.usageDaily, pg.usageDaily],
  ["usage_spend", lite.usageSpend, pg.usageSpend],
  ["audit_checkpoints", lite.auditCheckpoints, pg.auditCheckpoints],
  ["audit_log", lite.auditLog, pg.auditLog],
] as const;

export interface CopyReport {
  /** Rows copied per table, each equal to the source's. */
  rows: Record<string, number>;
  audit: { entries: number; head_hash: string };
}

/**
 * Copies every row of a SQLite store into an empty, migrated Postgres store, in one Postgres
 * transaction (all or nothing), from one SQLite read snapshot, then checks the result: each
 * table's row count matches and the copied audit chain verifies with the source's head hash.
 * The source chain must verify first: the Postgres triggers take only entries that extend the
 * head, so a broken source chain could not be copied as it is, and should not be silently mended.
 * Retained payloads move as the ciphertext they are; the payload key stays with the nodes.
 */
export async function copySqliteToPg(source: Pick<Store, "db" | "sqlite">, target: PgStore): Promise<CopyReport> {
  const occupied: string[] = [];
  for (const [name, , table] of TABLES) {
    const [row] = await target.db.select({ n: count() }).from(table);
    if ((row?.n ?? 0) > 0) occupied.push(`${name} (${row!.n})`);
  }
  if (occupied.length > 0) throw new SharedStoreError(`the target store is not empty: ${occupied.join(", ")}; copy moves a store into an empty one`);

  // One read transaction held across the awaits: the check and every page see the same snapshot,
  // even with a server still writing beside it. Pages keep memory flat for a large usage table.
  source.sqlite.run("BEGIN DEFERRED");
  let verification;
  const rows: Record<string, number> = {};
  try {
    verification = verifyAudit(source.db);
    if (!verification.ok)
      throw new SharedStoreError(`the source audit chain does not verify (${verification.problems.length} problem(s), first: ${verification.problems[0]!.message}); nothing copied`);
    await target.db.transaction(async (tx) => {
      for (const [name, liteTable, pgTable] of TABLES) {
        rows[name] = 0;
        for (const page of name === "accounts" ? [parentsFirst(source.db.select().from(lite.accounts).all())] : pages(source, liteTable)) {
          if (page.length > 0) await tx.insert(pgTable).values(page as never);
          rows[name] += page.length;
        }
      }
    });
  } finally {
    source.sqlite.run("COMMIT");
  }

  for (const [name, , table] of TABLES) {
    const [row] = await target.db.select({ n: count() }).from(table);
    if (row?.n !== rows[name]) throw new SharedStoreError(`after the copy, ${name} holds ${row?.n ?? 0} rows in the target and ${rows[name]} in the source`);
  }
  const copied = await createPgAuditRepository(target.db).verify(null);
  if (!copied.ok || copied.head_hash !== verification.head_hash)
    throw new SharedStoreError(`the copied audit chain does not verify (head ${copied.head_hash}, source head ${verification.head_hash})`);
  return { rows, audit: { entries: copied.entries, head_hash: copied.head_hash } };
}

/**
 * A table's rows in rowid order, BATCH at a time (keyset paging). For the audit tables rowid is
 * seq, which is the order their insert trigger takes them in.
 */
function* pages(source: Pick<Store, "db">, table: (typeof TABLES)[number][1]): Generator<Record<string, unknown>[]> {
  let after = 0;
  for (;;) {
    const page = source.db
      .select({ rowid: sql<number>`rowid`, ...getTableColumns(table) })
      .from(table as typeof lite.instance)
      .where(sql`rowid > ${after}`)
      .orderBy(sql`rowid`)
      .limit(BATCH)
      .all() as ({ rowid: number } & Record<string, unknown>)[];
    if (page.length === 0) return;
    after = page.at(-1)!.rowid;
    yield page.map(({ rowid: _, ...row }) => row);
  }
}

/** Accounts with each parent before its children, as the parent_id foreign key needs. */
function parentsFirst(accounts: lite.AccountRow[]): lite.AccountRow[] {
  const placed = new Set<string>();
  const out: lite.AccountRow[] = [];
  let rest = [...accounts].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  while (rest.length > 0) {
    const ready = rest.filter((account) => account.parentId == null || placed.has(account.parentId));
    // A parent missing from the store: insert the rest and let the foreign key name it.
    const batch = ready.length > 0 ? ready : rest;
    for (const account of batch) {
      placed.add(account.id);
      out.push(account);
    }
    rest = rest.filter((account) => !placed.has(account.id));
  }
  return out;
}
