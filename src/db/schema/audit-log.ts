import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * The admin audit log: append-only (triggers in the migration refuse UPDATE and DELETE) and hash
 * chained: `hash` = SHA-256 over the previous row's hash and this row's fields, so an edited,
 * removed or reordered row breaks the chain. `details` is metadata, never a secret.
 */
export const auditLog = sqliteTable("audit_log", {
  seq: integer("seq").primaryKey({ autoIncrement: true }),
  at: integer("at", { mode: "timestamp_ms" }).notNull(),
  /** "key:<id>" for the API, "cli:<user>" for the local CLI. */
  actor: text("actor").notNull(),
  action: text("action").notNull(),
  target: text("target").notNull(),
  details: text("details").notNull(),
  prevHash: text("prev_hash").notNull(),
  hash: text("hash").notNull(),
});

export type AuditRow = typeof auditLog.$inferSelect;
