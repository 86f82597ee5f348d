import type { AuditEntry } from "../audit/append-audit";
import type { CheckpointSigner } from "../audit/checkpoint-signer";
import type { AuditQuery, AuditView } from "../audit/list-audit";
import type { AuditChain, AuditVerification } from "../audit/verify-audit";
import type { AuditRow } from "../db/schema";

/** The audit aggregate: the append-only, hash-chained admin log, on either backend. */
export interface AuditRepository {
  /** Appends one entry at the chain head; concurrent appends (other nodes included) queue, so the chain stays linear. */
  append(entry: AuditEntry, at: Date): Promise<AuditRow>;
  list(query: AuditQuery): Promise<AuditView[]>;
  /** Everything the chain check reads, in seq order. */
  chain(): Promise<AuditChain>;
  verify(key: CheckpointSigner | null): Promise<AuditVerification>;
  /** Entries in the log now (the retention purge removes old ones behind a checkpoint). */
  length(): Promise<number>;
}
