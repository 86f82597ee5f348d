import { createHash } from "node:crypto";
import { desc } from "drizzle-orm";
import type { SyncDb } from "../db/sync-db";
import { auditCheckpoints, type AuditCheckpointRow, type AuditRow } from "../db/schema";
import type { CheckpointSigner } from "./checkpoint-signer";
import { GENESIS_HASH } from "./append-audit";

type CheckpointFields = Pick<AuditCheckpointRow, "prevDigest" | "seq" | "hash" | "at" | "removed">;

/** SHA-256 over a checkpoint's fields, including the previous checkpoint's digest. */
export function checkpointDigest(fields: CheckpointFields): string {
  return createHash("sha256")
    .update(JSON.stringify([fields.prevDigest, fields.seq, fields.hash, fields.at.getTime(), fields.removed]))
    .digest("hex");
}

export function latestCheckpoint(db: SyncDb): AuditCheckpointRow | undefined {
  return db.select().from(auditCheckpoints).orderBy(desc(auditCheckpoints.seq)).limit(1).get();
}

/**
 * Anchors the chain at `lastRemoved` before the entries up to it are deleted (the append-only
 * trigger lets a DELETE through only for entries a checkpoint covers). Signed with the retention
 * key when one is configured. Call inside the purge's transaction.
 */
export function writeCheckpoint(db: SyncDb, lastRemoved: Pick<AuditRow, "seq" | "hash">, removed: number, at: Date, key: CheckpointSigner | null): AuditCheckpointRow {
  const previous = latestCheckpoint(db);
  const fields: CheckpointFields = { prevDigest: previous?.digest ?? GENESIS_HASH, seq: lastRemoved.seq, hash: lastRemoved.hash, at, removed };
  const digest = checkpointDigest(fields);
  const row: AuditCheckpointRow = { ...fields, digest, signature: key?.sign(digest) ?? "" };
  db.insert(auditCheckpoints).values(row).run();
  return row;
}
