import { bigint, timestamp } from "drizzle-orm/pg-core";

/** A point in time with millisecond precision, read as a Date: the same values SQLite keeps as epoch ms. */
export const instant = (name: string) => timestamp(name, { withTimezone: true, precision: 3, mode: "date" });

/** Token counts and millionths of a currency outgrow 32 bits long before SQLite's 64-bit integers do. */
export const int64 = (name: string) => bigint(name, { mode: "number" });
