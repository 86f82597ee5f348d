import { and, asc, type Column, desc, eq, gt, gte, lt, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { SyncDb } from "../db/sync-db";
import { auditLog, type AuditRow } from "../db/schema";

const instant = z.union([z.iso.datetime({ offset: true }), z.iso.date()]).describe("ISO 8601 date (UTC midnight) or date-time");
const count = z.union([z.number(), z.string().regex(/^\d+$/, "expected a whole number")]).transform(Number).pipe(z.number().int().min(0));

export const AuditQuery = z.strictObject({
  since: instant.optional().describe("entries at or after this time"),
  until: instant.optional().describe("entries before this time"),
  actor: z.string().min(1).optional().describe("exact actor, e.g. key:key_123 or cli:alice"),
  action: z.string().min(1).optional().describe("exact action (key.create) or a prefix ending in '.' (key.)"),
  target: z.string().min(1).optional().describe("exact target id"),
  after_seq: count.optional().describe("entries with a larger seq (paging)"),
  limit: count.pipe(z.number().max(1000)).default(100).describe("most entries returned (1000 at most)"),
  order: z.enum(["asc", "desc"]).default("desc").describe("by seq; desc = newest first"),
});
export type AuditQuery = z.output<typeof AuditQuery>;

export interface AuditView {
  seq: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  details: unknown;
  prev_hash: string;
  hash: string;
}

export function toAuditView(row: AuditRow): AuditView {
  let details: unknown = row.details;
  try {
    details = JSON.parse(row.details);
  } catch {
    // An unparsable details column is shown as stored (verify reports the edit).
  }
  return { seq: row.seq, at: row.at.toISOString(), actor: row.actor, action: row.action, target: row.target, details, prev_hash: row.prevHash, hash: row.hash };
}

/** The audit columns a filter reads, in either dialect's table. */
export interface AuditColumns {
  seq: Column;
  at: Column;
  actor: Column;
  action: Column;
  target: Column;
}

/** The WHERE of an audit query; SQLite and Postgres alike (both have substr). */
export function auditConditions(table: AuditColumns, query: AuditQuery): SQL | undefined {
  const conditions: SQL[] = [];
  if (query.since != null) conditions.push(gte(table.at, new Date(query.since)));
  if (query.until != null) conditions.push(lt(table.at, new Date(query.until)));
  if (query.actor != null) conditions.push(eq(table.actor, query.actor));
  if (query.action != null)
    conditions.push(query.action.endsWith(".") ? sql`substr(${table.action}, 1, ${query.action.length}) = ${query.action}` : eq(table.action, query.action));
  if (query.target != null) conditions.push(eq(table.target, query.target));
  if (query.after_seq != null) conditions.push(gt(table.seq, query.after_seq));
  return and(...conditions);
}

/** Audit entries, filtered; `GET /admin/audit` and `enclave audit list` on the SQLite store. */
export function listAudit(db: SyncDb, query: AuditQuery): AuditView[] {
  return db
    .select()
    .from(auditLog)
    .where(auditConditions(auditLog, query))
    .orderBy(query.order === "asc" ? asc(auditLog.seq) : desc(auditLog.seq))
    .limit(query.limit)
    .all()
    .map(toAuditView);
}
