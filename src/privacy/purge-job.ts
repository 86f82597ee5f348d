import { and, desc, eq, isNotNull, lt, lte, or, sql } from "drizzle-orm";
import { appendAudit } from "../audit/append-audit";
import { writeCheckpoint } from "../audit/audit-checkpoint";
import type { Config } from "../config/schema";
import type { Store } from "../db/client";
import { auditLog, retainedPayloads, usageEvents } from "../db/schema";
import type { Logger } from "../logging/logger";
import { reclaimSpace, type ReclaimReport } from "./reclaim-space";
import type { RetentionKey } from "./retention-key";
import { changes, rollUpUsage } from "./usage-rollup";

export const DAY_MS = 86_400_000;

export interface PurgeReport {
  dry_run: boolean;
  at: string;
  /** Encrypted payloads past their window (or kept under a shortened payload_days). */
  payloads_deleted: number;
  /** Request-level metering rows folded into daily aggregates (older than metadata_detail_days). */
  usage_rows_rolled_up: number;
  /** Metering rows whose client IP was dropped (older than security_days). */
  client_ips_cleared: number;
  /** Audit entries older than audit_days removed behind a checkpoint. */
  audit_entries_removed: number;
  audit_checkpoint_seq: number | null;
  /** Space reclaimed after the deletes; null for a dry run or when nothing was deleted. */
  space: ReclaimReport | null;
}

export interface PurgeJobDeps {
  store: Pick<Store, "db" | "sqlite">;
  retention: Config["retention"];
  key: RetentionKey | null;
  /** Injected clock (ms since the epoch). */
  now?: () => number;
  logger?: Logger;
  /**
   * Called after each run that is not a dry run, scheduled or on demand, with the rows it removed
   * (payloads, request rows folded into daily aggregates, audit entries): the purge metrics.
   */
  onPurged?: (rowsRemoved: number) => void;
}

/** Midnight UTC at or before `ms`. */
export function utcDayStart(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/**
 * Enforces the retention windows, all in one transaction:
 * - payloads: delete those whose window ended (policy rows also when payload_days was shortened);
 * - metering: drop client IPs after security_days; after metadata_detail_days fold whole UTC days
 *   of request rows into daily aggregates;
 * - audit: after audit_days remove old entries behind a (signed) checkpoint so the chain still
 *   verifies; 0 keeps the log forever.
 * Then reclaims space (vacuum, WAL truncated) so deleted payloads do not linger on disk. A dry run
 * only counts. Each run that changes something is itself audited.
 */
export function createPurgeJob(deps: PurgeJobDeps) {
  const { store, retention, key, logger } = deps;
  const now = deps.now ?? Date.now;

  function run(options: { dryRun?: boolean; actor?: string } = {}): PurgeReport {
    const dryRun = options.dryRun === true;
    const at = now();
    const payloadWhere = or(
      lte(retainedPayloads.expiresAt, new Date(at)),
      and(eq(retainedPayloads.basis, "policy"), lte(retainedPayloads.createdAt, new Date(at - retention.payload_days * DAY_MS))),
    );
    const ipWhere = and(isNotNull(usageEvents.clientIp), lt(usageEvents.startedAt, new Date(at - retention.security_days * DAY_MS)));
    const detailWhere = lt(usageEvents.startedAt, new Date(utcDayStart(at - retention.metadata_detail_days * DAY_MS)));
    const auditCutoff = retention.audit_days > 0 ? new Date(at - retention.audit_days * DAY_MS) : null;

    const report = store.db.transaction((tx) => {
      const count = (table: typeof retainedPayloads | typeof usageEvents, where: ReturnType<typeof and>) =>
        tx.select({ n: sql<number>`count(*)` }).from(table).where(where).get()?.n ?? 0;
      const lastOld = auditCutoff == null ? undefined : tx.select().from(auditLog).where(lt(auditLog.at, auditCutoff)).orderBy(desc(auditLog.seq)).limit(1).get();
      const auditOld = lastOld == null ? 0 : (tx.select({ n: sql<number>`count(*)` }).from(auditLog).where(lte(auditLog.seq, lastOld.seq)).get()?.n ?? 0);
      const result: PurgeReport = {
        dry_run: dryRun,
        at: new Date(at).toISOString(),
        payloads_deleted: count(retainedPayloads, payloadWhere),
        usage_rows_rolled_up: count(usageEvents, detailWhere),
        client_ips_cleared: count(usageEvents, ipWhere),
        audit_entries_removed: auditOld,
        audit_checkpoint_seq: lastOld?.seq ?? null,
        space: null,
      };
      if (dryRun) return result;

      result.payloads_deleted = changes(tx.delete(retainedPayloads).where(payloadWhere).run());
      result.client_ips_cleared = changes(tx.update(usageEvents).set({ clientIp: null }).where(ipWhere).run());
      result.usage_rows_rolled_up = rollUpUsage(tx, detailWhere);
      if (lastOld != null) {
        writeCheckpoint(tx, lastOld, auditOld, new Date(at), key);
        result.audit_entries_removed = changes(tx.delete(auditLog).where(lte(auditLog.seq, lastOld.seq)).run());
      }
      const changed = result.payloads_deleted + result.client_ips_cleared + result.usage_rows_rolled_up + result.audit_entries_removed > 0;
      if (changed || options.actor != null)
        appendAudit(
          tx,
          {
            actor: options.actor ?? "system:retention",
            action: "retention.purge",
            target: "retention",
            details: {
              payloads_deleted: result.payloads_deleted,
              usage_rows_rolled_up: result.usage_rows_rolled_up,
              client_ips_cleared: result.client_ips_cleared,
              audit_entries_removed: result.audit_entries_removed,
              audit_checkpoint_seq: result.audit_checkpoint_seq,
            },
          },
          new Date(at),
        );
      return result;
    });

    if (!dryRun && report.payloads_deleted + report.usage_rows_rolled_up + report.client_ips_cleared + report.audit_entries_removed > 0)
      report.space = reclaimSpace(store.sqlite);
    logger?.info({ ...report, space: report.space ?? undefined }, dryRun ? "retention purge (dry run)" : "retention purge");
    if (!dryRun) deps.onPurged?.(report.payloads_deleted + report.usage_rows_rolled_up + report.audit_entries_removed);
    return report;
  }

  return { run };
}

export type PurgeJob = ReturnType<typeof createPurgeJob>;
