import { pgTable, text } from "drizzle-orm/pg-core";
import { instant } from "./columns";

/** One row: the shared store's identity (src/db/schema/instance.ts). */
export const instance = pgTable("instance", {
  id: text("id").primaryKey(),
  createdAt: instant("created_at").notNull(),
});
