import { bigint, customType, timestamp } from "drizzle-orm/pg-core";

/** A point in time with millisecond precision, read as a Date: the same values SQLite keeps as epoch ms. */
export const instant = (name: string) => timestamp(name, { withTimezone: true, precision: 3, mode: "date" });

/** Token counts and millionths of a currency outgrow 32 bits long before SQLite's 64-bit integers do. */
export const int64 = (name: string) => bigint(name, { mode: "number" });

/**
 * A jsonb column holding a list. Bun's client encodes a parameter bound to jsonb as JSON itself,
 * so drizzle's own jsonb (which stringifies first) stored the list as a JSON string; this hands
 * the value over as it is, and the database holds a real array that SQL can query.
 */
export const jsonList = customType<{ data: string[]; driverData: string[] }>({
  dataType: () => "jsonb",
  toDriver: (value) => value,
  fromDriver: (value) => value,
});
