import { pgTable, text } from "drizzle-orm/pg-core";
import { PAYLOAD_MODES } from "../../config/payload-modes";
import { instant } from "./columns";

/** Postgres twin of src/db/schema/retention-overrides.ts. */
export const retentionOverrides = pgTable("retention_overrides", {
  subject: text("subject").primaryKey(),
  payloads: text("payloads", { enum: PAYLOAD_MODES }).notNull(),
  setBy: text("set_by").notNull(),
  setAt: instant("set_at").notNull(),
});
