import type { BaseSQLiteDatabase } from "drizzle-orm/sqlite-core";
import type * as schema from "./schema";

/** The store's drizzle handle or a transaction on it: what services that read and write accept. */
export type SyncDb = BaseSQLiteDatabase<"sync", unknown, typeof schema>;
