import { Database } from "bun:sqlite";
import { createHash } from "node:crypto";
import { closeSync, existsSync, openSync, readSync } from "node:fs";
import { drizzle } from "drizzle-orm/bun-sqlite";
import type { CheckpointSigner } from "../audit/checkpoint-signer";
import { verifyAudit, type AuditVerification } from "../audit/verify-audit";
import { BackupError } from "./backup-error";
import { embeddedMigrations } from "./migrations";
import * as schema from "./schema";

export interface BackupInspection {
  /** The installation the store belongs to; null for a store no server has started on yet. */
  instance_id: string | null;
  /** Migrations applied to it, of this binary's; the rest run at the next start. */
  migrations: { applied: number; known: number };
  audit: AuditVerification;
}

const SQLITE_MAGIC = "SQLite format 3\0";
const REQUIRED_TABLES = ["__drizzle_migrations", "instance", "audit_log", "audit_checkpoints"];

/**
 * Proves `file` is an Enclave store this binary can run on before anything replaces the live one:
 * an SQLite file that passes integrity_check, with Enclave's tables, whose applied migrations are
 * all this binary's (migrations are forward-only: a store from a newer Enclave is refused, not
 * downgraded), and whose audit chain verifies (checkpoint signatures too, when `key` is given).
 * Opened read-only: inspecting changes nothing.
 */
export function inspectBackup(file: string, key: CheckpointSigner | null): BackupInspection {
  if (!existsSync(file)) throw new BackupError(`${file} does not exist`);
  if (!hasSqliteHeader(file)) throw new BackupError(`${file} is not an SQLite database, so not an Enclave backup`);
  const sqlite = new Database(file, { readonly: true });
  try {
    const integrity = sqlite.query("PRAGMA integrity_check").all() as { integrity_check: string }[];
    if (integrity[0]?.integrity_check !== "ok") throw new BackupError(`${file} is damaged: SQLite's integrity check failed`);
    const tables = new Set((sqlite.query("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((row) => row.name));
    const missing = REQUIRED_TABLES.filter((table) => !tables.has(table));
    if (missing.length > 0) throw new BackupError(`${file} is an SQLite database but not an Enclave store (no ${missing.join(", ")} table)`);

    const applied = sqlite.query('SELECT hash, created_at FROM "__drizzle_migrations" ORDER BY created_at').all() as { hash: string; created_at: number | string }[];
    const known = new Map(embeddedMigrations.map((migration) => [migration.when, createHash("sha256").update(migration.sql).digest("hex")]));
    for (const row of applied) {
      const hash = known.get(Number(row.created_at));
      if (hash == null) throw new BackupError(`${file} has a migration this enclave does not know (from a newer version?); migrations only run forward: restore it with that version or newer`);
      if (hash !== row.hash) throw new BackupError(`${file} has a migration whose SQL differs from this enclave's; it was not written by a released Enclave`);
    }

    const db = drizzle(sqlite, { schema });
    const audit = verifyAudit(db, key);
    if (!audit.ok) throw new BackupError(`${file} has an audit log that does not verify (${audit.problems.length} problem(s), first: ${audit.problems[0]!.message}); run \`enclave audit verify\` on a copy to see them all`);
    const instance = db.select().from(schema.instance).get();
    return { instance_id: instance?.id ?? null, migrations: { applied: applied.length, known: embeddedMigrations.length }, audit };
  } finally {
    sqlite.close();
  }
}

function hasSqliteHeader(file: string): boolean {
  const header = Buffer.alloc(SQLITE_MAGIC.length);
  const fd = openSync(file, "r");
  try {
    return readSync(fd, header, 0, header.length, 0) === header.length && header.toString("latin1") === SQLITE_MAGIC;
  } finally {
    closeSync(fd);
  }
}
