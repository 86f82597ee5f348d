import { pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { int64 } from "./columns";

/**
 * Requests and tokens per key per second, Postgres only (SQLite's single node keeps its windows in
 * process): the fleet's rpm and tpm sum the last minute of a key's buckets.
 */
export const rateWindows = pgTable(
  "rate_windows",
  {
    keyId: text("key_id").notNull(),
    /** "requests" or "tokens". */
    measure: text("measure").notNull(),
    /** Unix time in whole seconds. */
    second: int64("second").notNull(),
    amount: int64("amount").notNull(),
  },
  (table) => [primaryKey({ columns: [table.keyId, table.measure, table.second] })],
);
