import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { PAYLOAD_MODES } from "../../config/payload-modes";

/**
 * A stricter payload mode for one account or key than `[retention] payloads` (or its consent).
 * An override can only lower what is kept: the effective mode is the strictest of all that apply.
 */
export const retentionOverrides = sqliteTable("retention_overrides", {
  /** "account:<id>" or "key:<id>". */
  subject: text("subject").primaryKey(),
  payloads: text("payloads", { enum: PAYLOAD_MODES }).notNull(),
  setBy: text("set_by").notNull(),
  setAt: integer("set_at", { mode: "timestamp_ms" }).notNull(),
});

export type RetentionOverrideRow = typeof retentionOverrides.$inferSelect;
