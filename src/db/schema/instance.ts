import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** One row: this installation's identity, created with the store. */
export const instance = sqliteTable("instance", {
  id: text("id").primaryKey(),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
});
