import type { Database } from "bun:sqlite";
import { and, asc, desc, eq, gt, inArray, isNull, lt, lte, or, sql, type SQL } from "drizzle-orm";
import { appendAudit } from "../audit/append-audit";
import { writeCheckpoint } from "../audit/audit-checkpoint";
import { auditLog, retainedPayloads, usageEvents } from "../db/schema";
import type { SyncDb } from "../db/sync-db";
import { reclaimSpace } from "../privacy/reclaim-space";
import { changes, rollUpUsage } from "./sqlite-usage-rollup";
import { payloadConditions } from "./payload-conditions";
import type { PayloadRepository, PurgeCounts } from "./payload-repository";

/** Payloads of an account: full rows by account id, anonymized rows through their request's metering row. */
export function sqlitePayloadsOf(db: SyncDb, accountId: string): SQL | undefined {
  const requests = db.select({ id: usageEvents.id }).from(usageEvents).where(eq(usageEvents.accountId, accountId));
  return or(eq(retainedPayloads.accountId, accountId), and(isNull(retainedPayloads.accountId), inArray(retainedPayloads.requestId, requests)));
}

const { ofRequest, purge: purgeConditions } = payloadConditions({ retainedPayloads, usageEvents });

/**
 * The payload aggregate on the embedded SQLite store. After a purge that deleted anything,
 * `sqlite` (when given) gives the space back: secure_delete zeroed the cells, the vacuum and WAL
 * truncation drop the pages and the old frames that still held them.
 */
export function createSqlitePayloadRepository(db: SyncDb, sqlite?: Database): PayloadRepository {
  return {
    async store(row) {
      db.insert(retainedPayloads).values(row).run();
    },
    async ofAccount(accountId) {
      return db.select().from(retainedPayloads).where(sqlitePayloadsOf(db, accountId)).orderBy(asc(retainedPayloads.createdAt)).all();
    },
    async forDraftTraining(at, model) {
      return db
        .select()
        .from(retainedPayloads)
        .where(
          and(
            eq(retainedPayloads.kind, "generation"),
            gt(retainedPayloads.expiresAt, at),
            sql`exists (select 1 from json_each(${retainedPayloads.purposes}) where value = 'draft_training')`,
            model != null ? eq(retainedPayloads.model, model) : undefined,
          ),
        )
        .orderBy(asc(retainedPayloads.createdAt))
        .all();
    },
    async find(which, at) {
      return db.select().from(retainedPayloads).where(and(ofRequest(which), gt(retainedPayloads.expiresAt, at))).orderBy(desc(retainedPayloads.createdAt)).get() ?? null;
    },
    async remove(which) {
      return changes(db.delete(retainedPayloads).where(ofRequest(which)).run());
    },
    async purge(cutoffs, { dryRun, signer, audit }) {
      const where = purgeConditions(cutoffs);
      const counts = db.transaction((tx): PurgeCounts => {
        const count = (table: typeof retainedPayloads | typeof usageEvents, condition: SQL | undefined) =>
          tx.select({ n: sql<number>`count(*)` }).from(table).where(condition).get()?.n ?? 0;
        const lastOld =
          cutoffs.auditBefore == null ? undefined : tx.select().from(auditLog).where(lt(auditLog.at, cutoffs.auditBefore)).orderBy(desc(auditLog.seq)).limit(1).get();
        const auditOld = lastOld == null ? 0 : (tx.select({ n: sql<number>`count(*)` }).from(auditLog).where(lte(auditLog.seq, lastOld.seq)).get()?.n ?? 0);
        const result: PurgeCounts = {
          payloads_deleted: count(retainedPayloads, where.payloads),
          usage_rows_rolled_up: count(usageEvents, where.detail),
          client_ips_cleared: count(usageEvents, where.clientIps),
          audit_entries_removed: auditOld,
          audit_checkpoint_seq: lastOld?.seq ?? null,
          space: null,
        };
        if (dryRun) return result;
        result.payloads_deleted = changes(tx.delete(retainedPayloads).where(where.payloads).run());
        result.client_ips_cleared = changes(tx.update(usageEvents).set({ clientIp: null }).where(where.clientIps).run());
        result.usage_rows_rolled_up = rollUpUsage(tx, where.detail);
        if (lastOld != null) {
          writeCheckpoint(tx, lastOld, auditOld, cutoffs.at, signer);
          result.audit_entries_removed = changes(tx.delete(auditLog).where(lte(auditLog.seq, lastOld.seq)).run());
        }
        const entry = audit(result);
        if (entry != null) appendAudit(tx, entry, cutoffs.at);
        return result;
      });
      if (!dryRun && sqlite != null && counts.payloads_deleted + counts.usage_rows_rolled_up + counts.client_ips_cleared + counts.audit_entries_removed > 0)
        counts.space = reclaimSpace(sqlite);
      return counts;
    },
  };
}
