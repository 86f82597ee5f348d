import { asc, count, desc, sql } from "drizzle-orm";
import { auditHash, GENESIS_HASH } from "../audit/append-audit";
import { checkpointDigest } from "../audit/audit-checkpoint";
import type { CheckpointSigner } from "../audit/checkpoint-signer";
import { auditConditions, toAuditView } from "../audit/list-audit";
import { verifyChain } from "../audit/verify-audit";
import type { PgDb, PgTx } from "../db/pg-client";
import { auditCheckpoints, auditLog } from "../db/pg-schema";
import type { AuditRow } from "../db/schema";
import type { AuditRepository } from "./audit-repository";

/** Every node appending to the same database takes this transaction-scoped lock (any fixed bigint). */
const AUDIT_CHAIN_LOCK = sql.raw("7305676930138464002");

/**
 * Takes the chain lock until `tx` ends (again is a no-op). A write transaction that will append
 * takes it first, before any row lock, so writers that lock rows and append cannot deadlock on
 * each other; it also queues the purge's and an erasure's roll-ups, which must not fold the same
 * metering rows twice.
 */
export async function lockAuditChain(tx: PgTx): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK})`);
}

/**
 * Anchors the chain at `lastRemoved` before the entries up to it are deleted (the delete
 * trigger lets only entries behind a checkpoint go); src/audit/audit-checkpoint.ts on Postgres.
 * Call under the chain lock, inside the purge's transaction.
 */
export async function writePgCheckpoint(tx: PgTx, lastRemoved: Pick<AuditRow, "seq" | "hash">, removed: number, at: Date, key: CheckpointSigner | null): Promise<void> {
  const [previous] = await tx.select({ digest: auditCheckpoints.digest }).from(auditCheckpoints).orderBy(desc(auditCheckpoints.seq)).limit(1);
  const fields = { prevDigest: previous?.digest ?? GENESIS_HASH, seq: lastRemoved.seq, hash: lastRemoved.hash, at, removed };
  const digest = checkpointDigest(fields);
  await tx.insert(auditCheckpoints).values({ ...fields, digest, signature: key?.sign(digest) ?? "" });
}

/**
 * Appends one entry inside `tx`, under the chain lock: a second writer (this node or another)
 * waits at the lock until the first commits, then reads the head the first wrote. The insert
 * trigger refuses an entry that does not extend the head, should anything write without the lock.
 */
export async function appendPgAudit(tx: PgTx, entry: Parameters<AuditRepository["append"]>[0], at: Date): Promise<AuditRow> {
  await lockAuditChain(tx);
  const [last] = await tx.select({ seq: auditLog.seq, hash: auditLog.hash }).from(auditLog).orderBy(desc(auditLog.seq)).limit(1);
  const [checkpoint] = last == null ? await tx.select({ seq: auditCheckpoints.seq, hash: auditCheckpoints.hash }).from(auditCheckpoints).orderBy(desc(auditCheckpoints.seq)).limit(1) : [];
  const head = last ?? checkpoint ?? { seq: 0, hash: GENESIS_HASH };
  const fields = { seq: head.seq + 1, at, actor: entry.actor, action: entry.action, target: entry.target, details: JSON.stringify(entry.details ?? {}) };
  const row = { ...fields, prevHash: head.hash, hash: auditHash(head.hash, fields) };
  await tx.insert(auditLog).values(row);
  return row;
}

/**
 * The audit aggregate on the shared Postgres store. The triggers refuse UPDATE, TRUNCATE and a
 * DELETE not behind a retention checkpoint, so the newest seq ever written is the newest still
 * there: unlike SQLite's sqlite_sequence, no separate high-water mark is kept.
 */
export function createPgAuditRepository(db: PgDb): AuditRepository {
  return {
    append: (entry, at) => db.transaction((tx) => appendPgAudit(tx, entry, at)),
    async length() {
      const [row] = await db.select({ entries: count() }).from(auditLog);
      return row?.entries ?? 0;
    },
    async list(query) {
      const rows = await db
        .select()
        .from(auditLog)
        .where(auditConditions(auditLog, query))
        .orderBy(query.order === "asc" ? asc(auditLog.seq) : desc(auditLog.seq))
        .limit(query.limit);
      return rows.map(toAuditView);
    },
    async chain() {
      // One snapshot, so an append between the two reads cannot look like a broken chain.
      return db.transaction(
        async (tx) => {
          const checkpoints = await tx.select().from(auditCheckpoints).orderBy(asc(auditCheckpoints.seq));
          const rows = await tx.select().from(auditLog).orderBy(asc(auditLog.seq));
          return { checkpoints, rows, highestSeq: rows.at(-1)?.seq ?? 0 };
        },
        { isolationLevel: "repeatable read", accessMode: "read only" },
      );
    },
    async verify(key) {
      return verifyChain(await this.chain(), key);
    },
  };
}
