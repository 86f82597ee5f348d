import type { Config } from "../config/schema";
import type { Logger } from "../logging/logger";
import type { PayloadRepository, PurgeCounts } from "../store/payload-repository";
import type { ReclaimReport } from "./reclaim-space";
import type { RetentionKey } from "./retention-key";

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
  payloads: PayloadRepository;
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
 * On SQLite it then reclaims space (vacuum, WAL truncated) so deleted payloads do not linger on
 * disk. A dry run only counts. Each run that changes something is itself audited.
 */
export function createPurgeJob(deps: PurgeJobDeps) {
  const { payloads, retention, key, logger } = deps;
  const now = deps.now ?? Date.now;

  /** What the purge writes to the audit log: a run that changed something, or one an actor asked for. */
  const auditOf = (actor: string | undefined) => (counts: PurgeCounts) =>
    counts.payloads_deleted + counts.client_ips_cleared + counts.usage_rows_rolled_up + counts.audit_entries_removed > 0 || actor != null
      ? {
          actor: actor ?? "system:retention",
          action: "retention.purge",
          target: "retention",
          details: {
            payloads_deleted: counts.payloads_deleted,
            usage_rows_rolled_up: counts.usage_rows_rolled_up,
            client_ips_cleared: counts.client_ips_cleared,
            audit_entries_removed: counts.audit_entries_removed,
            audit_checkpoint_seq: counts.audit_checkpoint_seq,
          },
        }
      : null;

  async function run(options: { dryRun?: boolean; actor?: string } = {}): Promise<PurgeReport> {
    const dryRun = options.dryRun === true;
    const at = now();
    const counts = await payloads.purge(
      {
        at: new Date(at),
        policyCreatedBy: new Date(at - retention.payload_days * DAY_MS),
        clientIpsBefore: new Date(at - retention.security_days * DAY_MS),
        detailBefore: new Date(utcDayStart(at - retention.metadata_detail_days * DAY_MS)),
        auditBefore: retention.audit_days > 0 ? new Date(at - retention.audit_days * DAY_MS) : null,
      },
      { dryRun, signer: key, audit: auditOf(options.actor) },
    );
    const report: PurgeReport = { dry_run: dryRun, at: new Date(at).toISOString(), ...counts };
    logger?.info({ ...report, space: report.space ?? undefined }, dryRun ? "retention purge (dry run)" : "retention purge");
    if (!dryRun) deps.onPurged?.(report.payloads_deleted + report.usage_rows_rolled_up + report.audit_entries_removed);
    return report;
  }

  return { run };
}

export type PurgeJob = ReturnType<typeof createPurgeJob>;
