import type { AuditEntry } from "../audit/append-audit";
import type { CheckpointSigner } from "../audit/checkpoint-signer";
import type { RetainedPayloadRow } from "../db/schema";
import type { PurgeReport } from "../privacy/purge-job";

/** Where each retention window of one purge run ends. */
export interface PurgeCutoffs {
  at: Date;
  /** Policy payloads created at or before this are past payload_days (which may have been shortened since). */
  policyCreatedBy: Date;
  /** Client IPs of requests started before this are dropped (security_days). */
  clientIpsBefore: Date;
  /** Request rows started before this (a UTC midnight) are folded into daily aggregates (metadata_detail_days). */
  detailBefore: Date;
  /** Audit entries written before this are removed behind a checkpoint; null keeps them forever. */
  auditBefore: Date | null;
}

export type PurgeCounts = Omit<PurgeReport, "dry_run" | "at">;

/** Which of an account's stored payloads: one request's rows of the given kinds, written under full mode. */
export interface AccountPayloads {
  accountId: string;
  requestId: string;
  kinds: readonly RetainedPayloadRow["kind"][];
}

/**
 * The retained-payload aggregate, on either backend: rows that reach it are already encrypted
 * (the payload key never reaches the database), and the retention purge, which removes them
 * with the other expired data (metering detail and client IPs, old audit entries).
 */
export interface PayloadRepository {
  store(row: RetainedPayloadRow): Promise<void>;
  /** An account's payloads, oldest first: full rows by account id, anonymized ones through their request's metering row. */
  ofAccount(accountId: string): Promise<RetainedPayloadRow[]>;
  /** Generation payloads unexpired at `at` whose purposes include draft_training (of one model, if given), oldest first. */
  forDraftTraining(at: Date, model?: string): Promise<RetainedPayloadRow[]>;
  /** The newest matching row still unexpired at `at`. */
  find(which: AccountPayloads, at: Date): Promise<RetainedPayloadRow | null>;
  /** Deletes the matching rows; how many. */
  remove(which: AccountPayloads): Promise<number>;
  /**
   * One retention run in one transaction: with `dryRun` it only counts. Otherwise it deletes
   * expired payloads, clears old client IPs, folds old request rows into daily aggregates and
   * removes old audit entries behind a checkpoint (signed with `signer` when there is one), then
   * appends what `audit` makes of the counts (null: nothing). `space` says what was given back
   * to the file system where the backend does that itself (SQLite); null otherwise.
   */
  purge(cutoffs: PurgeCutoffs, options: { dryRun: boolean; signer: CheckpointSigner | null; audit: (counts: PurgeCounts) => AuditEntry | null }): Promise<PurgeCounts>;
}
