import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * Anchors left when the purge removes audit entries older than `[retention] audit_days`: the seq
 * and hash of the last removed entry, so the first remaining entry still links to something
 * verifiable. Each checkpoint commits to the one before it and, when a retention key is
 * configured, is signed (HMAC-SHA256). Append-only, like the log.
 */
export const auditCheckpoints = sqliteTable("audit_checkpoints", {
  /** The seq of the last audit entry removed. */
  seq: integer("seq").primaryKey(),
  /** That entry's hash: the first remaining entry's prev_hash. */
  hash: text("hash").notNull(),
  at: integer("at", { mode: "timestamp_ms" }).notNull(),
  /** Entries removed by this checkpoint's purge. */
  removed: integer("removed").notNull(),
  /** The previous checkpoint's digest (64 zeros for the first). */
  prevDigest: text("prev_digest").notNull(),
  /** SHA-256 over prev_digest, seq, hash, at, removed. */
  digest: text("digest").notNull(),
  /** HMAC-SHA256 of digest under the retention key; "" when no key is configured. */
  signature: text("signature").notNull(),
});

export type AuditCheckpointRow = typeof auditCheckpoints.$inferSelect;
