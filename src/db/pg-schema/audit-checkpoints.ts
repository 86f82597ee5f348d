import { pgTable, text } from "drizzle-orm/pg-core";
import { instant, int64 } from "./columns";

/** Postgres twin of src/db/schema/audit-checkpoints.ts: retention anchors of the audit chain. */
export const auditCheckpoints = pgTable("audit_checkpoints", {
  seq: int64("seq").primaryKey(),
  hash: text("hash").notNull(),
  at: instant("at").notNull(),
  removed: int64("removed").notNull(),
  prevDigest: text("prev_digest").notNull(),
  digest: text("digest").notNull(),
  signature: text("signature").notNull(),
});
