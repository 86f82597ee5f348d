import { asc, sql } from "drizzle-orm";
import type { SyncDb } from "../db/sync-db";
import { auditCheckpoints, type AuditCheckpointRow, auditLog, type AuditRow } from "../db/schema";
import type { CheckpointSigner } from "./checkpoint-signer";
import { auditHash, GENESIS_HASH } from "./append-audit";
import { checkpointDigest } from "./audit-checkpoint";

export interface AuditProblem {
  /** The entry (or checkpoint) seq the problem is at. */
  seq: number;
  kind: "edited" | "deleted" | "reordered" | "checkpoint";
  message: string;
}

export interface AuditVerification {
  ok: boolean;
  entries: number;
  first_seq: number | null;
  last_seq: number | null;
  /** The hash of the newest entry: record it elsewhere to detect a rewrite of the whole log later. */
  head_hash: string;
  /** The checkpoint the remaining chain starts from (after retention removed older entries). */
  checkpoint: { seq: number; hash: string; signature: "valid" | "unsigned" | "unverified (no key configured)" } | null;
  problems: AuditProblem[];
}

/** How far from its stored seq an entry is looked for when its hash fits another position. */
const REORDER_WINDOW = 64;

/**
 * Walks the hash chain from the last retention checkpoint (or genesis) and says which entries
 * were edited (fields no longer match the hash, or a hash was recomputed so the next entry no
 * longer links to it), deleted (a gap in seq, or missing newest entries: SQLite remembers the
 * highest seq ever used) or reordered (an entry whose hash fits another position). Checkpoints are
 * checked too: their own chain, and their signature when a key is configured.
 */
export function verifyAudit(db: SyncDb, key: CheckpointSigner | null = null): AuditVerification {
  const checkpoints = db.select().from(auditCheckpoints).orderBy(asc(auditCheckpoints.seq)).all();
  const rows = db.select().from(auditLog).orderBy(asc(auditLog.seq)).all();
  return verifyChain({ checkpoints, rows, highestSeq: highestAuditSeq(db) }, key);
}

/** AUTOINCREMENT keeps the highest seq ever used, so deleting the newest entries shows too. */
export function highestAuditSeq(db: SyncDb): number {
  return db.all<{ seq: number }>(sql`select seq from sqlite_sequence where name = 'audit_log'`)[0]?.seq ?? 0;
}

/** What a chain check reads from a store: both ascending by seq, and the highest seq the store has ever given out. */
export interface AuditChain {
  checkpoints: readonly AuditCheckpointRow[];
  rows: readonly AuditRow[];
  highestSeq: number;
}

/** The chain check of `verifyAudit`, over rows read from either backend. */
export function verifyChain(chain: AuditChain, key: CheckpointSigner | null): AuditVerification {
  const { checkpoints, rows } = chain;
  const problems: AuditProblem[] = [];
  let prevDigest = GENESIS_HASH;
  let signature: NonNullable<AuditVerification["checkpoint"]>["signature"] = "unsigned";
  for (const checkpoint of checkpoints) {
    if (checkpoint.prevDigest !== prevDigest || checkpointDigest(checkpoint) !== checkpoint.digest)
      problems.push({ seq: checkpoint.seq, kind: "checkpoint", message: `retention checkpoint at seq ${checkpoint.seq} was altered, or one before it was removed` });
    if (checkpoint.signature === "") signature = "unsigned";
    else if (key == null) signature = "unverified (no key configured)";
    else if (key.sign(checkpoint.digest) !== checkpoint.signature) {
      problems.push({ seq: checkpoint.seq, kind: "checkpoint", message: `retention checkpoint at seq ${checkpoint.seq} has a signature that does not match the retention key` });
      signature = "unsigned";
    } else signature = "valid";
    prevDigest = checkpoint.digest;
  }
  const anchor = checkpoints.at(-1);

  const byHash = new Map(rows.map((row) => [row.hash, row]));
  let expectedSeq = (anchor?.seq ?? 0) + 1;
  let expectedPrev = anchor?.hash ?? GENESIS_HASH;
  let previous: AuditRow | null = null;
  /** Whether the entry before is intact and in its place: only then is a broken link this entry's problem. */
  let previousSound = true;

  for (const row of rows) {
    const intact = auditHash(row.prevHash, row) === row.hash;
    const before = problems.length;
    if (row.seq < expectedSeq) {
      problems.push({ seq: row.seq, kind: "reordered", message: `entry seq ${row.seq} comes before the retention checkpoint at seq ${anchor?.seq ?? 0} it should follow` });
    } else if (row.seq > expectedSeq) {
      const range = row.seq - 1 === expectedSeq ? `seq ${expectedSeq}` : `seq ${expectedSeq}..${row.seq - 1}`;
      problems.push({ seq: expectedSeq, kind: "deleted", message: `entry ${range} is missing (deleted); seq ${row.seq} no longer links to the entry before it` });
    } else if (!intact) {
      const original = originalSeq(row, byHash);
      problems.push(
        original != null
          ? { seq: row.seq, kind: "reordered", message: `the entry stored as seq ${row.seq} (${row.action} on ${row.target}) was written as seq ${original}` }
          : { seq: row.seq, kind: "edited", message: `entry seq ${row.seq} was edited: its fields no longer match its hash` },
      );
    } else if (row.prevHash !== expectedPrev && previousSound) {
      const linked = byHash.get(row.prevHash);
      if (linked != null && linked.seq !== row.seq - 1)
        problems.push({ seq: row.seq, kind: "reordered", message: `entry seq ${row.seq} follows seq ${linked.seq} in the chain but is stored after seq ${row.seq - 1}` });
      else if (previous != null)
        problems.push({ seq: previous.seq, kind: "edited", message: `entry seq ${previous.seq} was edited and its hash recomputed; seq ${row.seq} still links to the original` });
      else if (previous == null)
        problems.push({ seq: row.seq, kind: "deleted", message: `entry seq ${row.seq} does not link to ${anchor ? `the retention checkpoint at seq ${anchor.seq}` : "the start of the log"}; entries before it were removed or rewritten` });
    }
    expectedSeq = Math.max(expectedSeq, row.seq + 1);
    expectedPrev = row.hash;
    previous = row;
    previousSound = problems.length === before;
  }

  const highest = chain.highestSeq;
  const lastSeq = rows.at(-1)?.seq ?? anchor?.seq ?? 0;
  if (highest > lastSeq) {
    const range = highest === lastSeq + 1 ? `seq ${highest}` : `seq ${lastSeq + 1}..${highest}`;
    problems.push({ seq: lastSeq + 1, kind: "deleted", message: `newest entry ${range} is missing (deleted)` });
  }

  return {
    ok: problems.length === 0,
    entries: rows.length,
    first_seq: rows[0]?.seq ?? null,
    last_seq: rows.at(-1)?.seq ?? null,
    head_hash: rows.at(-1)?.hash ?? anchor?.hash ?? GENESIS_HASH,
    checkpoint: anchor ? { seq: anchor.seq, hash: anchor.hash, signature } : null,
    problems,
  };
}

/** The seq an entry's hash was computed with, when it is not the seq it is stored at. */
function originalSeq(row: AuditRow, byHash: Map<string, AuditRow>): number | null {
  const candidates = new Set<number>();
  const linked = byHash.get(row.prevHash);
  if (linked != null) candidates.add(linked.seq + 1);
  for (let offset = 1; offset <= REORDER_WINDOW; offset++) candidates.add(row.seq + offset).add(row.seq - offset);
  for (const seq of candidates) if (seq > 0 && seq !== row.seq && auditHash(row.prevHash, { ...row, seq }) === row.hash) return seq;
  return null;
}
