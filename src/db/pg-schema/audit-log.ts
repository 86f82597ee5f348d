import { pgTable, text } from "drizzle-orm/pg-core";
import { instant, int64 } from "./columns";

/**
 * Postgres twin of src/db/schema/audit-log.ts. `seq` is assigned by the writer holding the chain
 * lock (not a sequence), so seq and hash order agree; triggers in the migration keep the table
 * append-only and refuse a seq that does not follow the chain head.
 */
export const auditLog = pgTable("audit_log", {
  seq: int64("seq").primaryKey(),
  at: instant("at").notNull(),
  actor: text("actor").notNull(),
  action: text("action").notNull(),
  target: text("target").notNull(),
  details: text("details").notNull(),
  prevHash: text("prev_hash").notNull(),
  hash: text("hash").notNull(),
});
