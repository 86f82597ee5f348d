import { bigint, boolean, index, integer, pgTable, text } from "drizzle-orm/pg-core";
import { instant } from "./columns";

/**
 * Concurrency slots of the whole fleet, Postgres only: SQLite serves one node, whose in-process
 * limiter needs no table. A row is a request holding a slot (granted) or waiting for one, with the
 * node that owns it and an expiry that node's heartbeat keeps pushing forward: rows of a node that
 * died stop counting at expires_at. `arrival`, assigned under the tree's lock, is the fleet-wide
 * queue order. The request's limits ride on the row so any node can replay the queue.
 */
export const concurrencyLeases = pgTable(
  "concurrency_leases",
  {
    id: text("id").primaryKey(),
    arrival: bigint("arrival", { mode: "number" }).generatedAlwaysAsIdentity().notNull(),
    nodeId: text("node_id").notNull(),
    /** The top of the request's account chain: the unit of locking and of queue order. */
    rootId: text("root_id").notNull(),
    keyId: text("key_id").notNull(),
    accountId: text("account_id").notNull(),
    /** The request's account and every account above it, nearest first. */
    chain: text("chain").array().notNull(),
    keyLimit: integer("key_limit").notNull(),
    accountLimit: integer("account_limit").notNull(),
    /** Each chain entry's subtree cap (0: none), in chain order. */
    chainLimits: integer("chain_limits").array().notNull(),
    granted: boolean("granted").notNull(),
    expiresAt: instant("expires_at").notNull(),
  },
  (table) => [index("concurrency_leases_root").on(table.rootId)],
);
