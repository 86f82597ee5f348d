import { createHash } from "node:crypto";
import { desc } from "drizzle-orm";
import type { SyncDb } from "../db/sync-db";
import { auditCheckpoints, auditLog, type AuditRow } from "../db/schema";

export const GENESIS_HASH = "0".repeat(64);

export interface AuditEntry {
  /** "key:<id>", "cli:<user>", or "signal:<name>" for a config reload the server was signalled to do. */
  actor: string;
  /** e.g. "key.create", "account.update". */
  action: string;
  /** The id acted on. */
  target: string;
  /** Metadata only: ids, names, limits. Never a key secret or request content. */
  details?: Record<string, unknown>;
}

/** The hash a row must carry: SHA-256 over the previous hash and the row's fields, in a fixed order. */
export function auditHash(prevHash: string, row: Pick<AuditRow, "seq" | "at" | "actor" | "action" | "target" | "details">): string {
  const fields = [row.seq, row.at.getTime(), row.actor, row.action, row.target, row.details];
  return createHash("sha256").update(prevHash).update("\n").update(JSON.stringify(fields)).digest("hex");
}

/** Where the next entry links to: the last entry, else the last retention checkpoint, else genesis. */
function chainHead(db: SyncDb): { seq: number; hash: string } {
  const last = db.select({ seq: auditLog.seq, hash: auditLog.hash }).from(auditLog).orderBy(desc(auditLog.seq)).limit(1).get();
  if (last != null) return last;
  const checkpoint = db.select({ seq: auditCheckpoints.seq, hash: auditCheckpoints.hash }).from(auditCheckpoints).orderBy(desc(auditCheckpoints.seq)).limit(1).get();
  return checkpoint ?? { seq: 0, hash: GENESIS_HASH };
}

/**
 * Appends one entry to the hash-chained audit log. Call it inside the transaction that makes the
 * change it records, so the change and its entry are written together or not at all.
 */
export function appendAudit(db: SyncDb, entry: AuditEntry, at: Date): AuditRow {
  const head = chainHead(db);
  const prevHash = head.hash;
  const fields = { seq: head.seq + 1, at, actor: entry.actor, action: entry.action, target: entry.target, details: JSON.stringify(entry.details ?? {}) };
  const row = { ...fields, prevHash, hash: auditHash(prevHash, fields) };
  db.insert(auditLog).values(row).run();
  return row;
}
