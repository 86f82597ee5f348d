import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { RETAINING_MODES } from "../../config/payload-modes";

/**
 * An account's informed consent to payload retention, recorded by an admin: who gave it, when,
 * to what (mode and purposes) and for how long payloads may be kept. At most one is active per
 * account; revoking it purges the payloads kept under it. Recording and revoking are audited.
 */
export const consents = sqliteTable(
  "consents",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id").notNull(),
    mode: text("mode", { enum: RETAINING_MODES }).notNull(),
    /** JSON array: "debugging", "quality", "draft_training". */
    purposes: text("purposes", { mode: "json" }).$type<string[]>().notNull(),
    retentionDays: integer("retention_days").notNull(),
    /** The person or party who consented, as the admin recorded it. */
    grantedBy: text("granted_by").notNull(),
    /** The scope statement the consent was given to (or a reference to it). */
    statement: text("statement").notNull(),
    grantedAt: integer("granted_at", { mode: "timestamp_ms" }).notNull(),
    /** Audit actor id of the admin who recorded it. */
    recordedBy: text("recorded_by").notNull(),
    recordedAt: integer("recorded_at", { mode: "timestamp_ms" }).notNull(),
    revokedAt: integer("revoked_at", { mode: "timestamp_ms" }),
    revokedBy: text("revoked_by"),
  },
  (table) => [index("consents_account").on(table.accountId)],
);

export type ConsentRow = typeof consents.$inferSelect;
