import { asc, count } from "drizzle-orm";
import { appendAudit } from "../audit/append-audit";
import { listAudit } from "../audit/list-audit";
import { highestAuditSeq, verifyAudit } from "../audit/verify-audit";
import { auditCheckpoints, auditLog } from "../db/schema";
import type { SyncDb } from "../db/sync-db";
import type { AuditRepository } from "./audit-repository";

/** The audit aggregate on the embedded SQLite store; SQLite's one writer keeps the chain linear. */
export function createSqliteAuditRepository(db: SyncDb): AuditRepository {
  return {
    async append(entry, at) {
      return db.transaction((tx) => appendAudit(tx, entry, at));
    },
    async list(query) {
      return listAudit(db, query);
    },
    async chain() {
      return {
        checkpoints: db.select().from(auditCheckpoints).orderBy(asc(auditCheckpoints.seq)).all(),
        rows: db.select().from(auditLog).orderBy(asc(auditLog.seq)).all(),
        highestSeq: highestAuditSeq(db),
      };
    },
    async verify(key) {
      return verifyAudit(db, key);
    },
    async length() {
      return db.select({ entries: count() }).from(auditLog).get()?.entries ?? 0;
    },
  };
}
