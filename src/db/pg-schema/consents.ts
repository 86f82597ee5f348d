import { index, pgTable, text } from "drizzle-orm/pg-core";
import { RETAINING_MODES } from "../../config/payload-modes";
import { instant, int64, jsonList } from "./columns";

/** Postgres twin of src/db/schema/consents.ts. */
export const consents = pgTable(
  "consents",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id").notNull(),
    mode: text("mode", { enum: RETAINING_MODES }).notNull(),
    purposes: jsonList("purposes").notNull(),
    retentionDays: int64("retention_days").notNull(),
    grantedBy: text("granted_by").notNull(),
    statement: text("statement").notNull(),
    grantedAt: instant("granted_at").notNull(),
    recordedBy: text("recorded_by").notNull(),
    recordedAt: instant("recorded_at").notNull(),
    revokedAt: instant("revoked_at"),
    revokedBy: text("revoked_by"),
  },
  (table) => [index("consents_account").on(table.accountId)],
);
