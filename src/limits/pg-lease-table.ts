import { eq, inArray, sql } from "drizzle-orm";
import type { PgDb } from "../db/pg-client";
import { concurrencyLeases } from "../db/pg-schema";
import { replaySlotQueue, type HeldSlots, type SlotClaim } from "./replay-slot-queue";

/** NOTIFY channel: a row left the table (released, gave up waiting, expired), payload its root account id. */
export const LEASE_CHANNEL = "enclave_concurrency";

export interface FleetClaim extends SlotClaim {
  /** The top of the chain: the lock and the queue this claim belongs to. */
  rootId: string;
  /** Requests of the key that may wait fleet-wide. */
  queueSize: number;
}

export type AttemptOutcome =
  | { kind: "granted"; id: string }
  | { kind: "waiting"; id: string; arrival: number }
  | { kind: "full"; inFlight: number; queued: number };

type TreeRow = {
  granted: boolean;
  id: string | null;
  arrival: string | number | null;
  key_id: string;
  account_id: string;
  chain: string[];
  count: number;
  key_limit: number;
  account_limit: number;
  chain_limits: number[];
};

/**
 * The concurrency_leases table as one node uses it. Every grant happens in a transaction holding
 * the tree's advisory lock, after reading the tree's live rows, so two nodes never both take the
 * last slot; a release only lowers counts and needs no lock. Expiry is the database's clock, so
 * nodes' clocks never disagree about it.
 */
export function createLeaseTable(db: PgDb, options: { nodeId: string; expiryMs: number }) {
  const expiresAt = sql`now() + ${options.expiryMs} * interval '1 millisecond'`;
  const live = sql`expires_at > now()`;

  async function attempt(claim: FleetClaim, rowId: string | null): Promise<AttemptOutcome> {
    return db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`enclave.concurrency:${claim.rootId}`}, 0))`);
      // Bun's driver types raw rows loosely: these are the columns selected below.
      const rows = (await tx.execute(sql`
        select true as granted, null::text as id, null::bigint as arrival, key_id, account_id, chain, count(*)::int as count,
               0 as key_limit, 0 as account_limit, '{}'::int[] as chain_limits
        from concurrency_leases where root_id = ${claim.rootId} and granted and ${live}
        group by key_id, account_id, chain
        union all
        select false, id, arrival, key_id, account_id, chain, 1, key_limit, account_limit, chain_limits
        from concurrency_leases where root_id = ${claim.rootId} and not granted and ${live}
        order by arrival nulls first`)) as TreeRow[];
      const held: HeldSlots[] = [];
      const waiting: (SlotClaim & { id: string; arrival: number })[] = [];
      for (const row of rows) {
        const slots = { keyId: row.key_id, accountId: row.account_id, chain: row.chain };
        if (row.granted) held.push({ ...slots, count: row.count });
        else waiting.push({ ...slots, id: row.id!, arrival: Number(row.arrival), keyLimit: row.key_limit, accountLimit: row.account_limit, chainLimits: row.chain_limits });
      }
      // A row that expired while its node stalled has lost its place: the claim queues anew.
      const mine = waiting.find((row) => row.id === rowId);
      const older = mine == null ? waiting : waiting.filter((row) => row.arrival < mine.arrival);

      if (replaySlotQueue(held, older, claim)) {
        if (mine != null) {
          await tx.update(concurrencyLeases).set({ granted: true, expiresAt }).where(eq(concurrencyLeases.id, mine.id));
          return { kind: "granted", id: mine.id };
        }
        return { kind: "granted", id: (await insert(tx, claim, true)).id };
      }
      if (mine != null) return { kind: "waiting", id: mine.id, arrival: mine.arrival };
      const queued = waiting.filter((row) => row.keyId === claim.keyId).length;
      if (queued >= claim.queueSize) {
        const inFlight = held.filter((slots) => slots.keyId === claim.keyId).reduce((sum, slots) => sum + slots.count, 0);
        return { kind: "full", inFlight, queued };
      }
      return { kind: "waiting", ...(await insert(tx, claim, false)) };
    });
  }

  async function insert(tx: Pick<PgDb, "insert">, claim: FleetClaim, granted: boolean): Promise<{ id: string; arrival: number }> {
    const { keyId, accountId, rootId, keyLimit, accountLimit } = claim;
    const [row] = await tx
      .insert(concurrencyLeases)
      .values({ id: crypto.randomUUID(), nodeId: options.nodeId, rootId, keyId, accountId, chain: [...claim.chain], keyLimit, accountLimit, chainLimits: [...claim.chainLimits], granted, expiresAt })
      .returning({ id: concurrencyLeases.id, arrival: concurrencyLeases.arrival });
    return row!;
  }

  return {
    attempt,

    /** Deletes a row (held or waiting) and tells every node its tree may have room. */
    async remove(id: string): Promise<void> {
      await db.execute(sql`with gone as (delete from concurrency_leases where id = ${id} returning root_id)
        select pg_notify(${LEASE_CHANNEL}, root_id) from gone`);
    },

    /** Pushes the expiry of this node's rows forward, and deletes rows whose node stopped doing so (telling the fleet). */
    async renew(ids: readonly string[]): Promise<void> {
      if (ids.length > 0) await db.update(concurrencyLeases).set({ expiresAt }).where(inArray(concurrencyLeases.id, [...ids]));
      await db.execute(sql`with gone as (delete from concurrency_leases where expires_at <= now() returning root_id)
        select pg_notify(${LEASE_CHANNEL}, root_id) from (select distinct root_id from gone) as roots`);
    },

    /** Every row this node still owns: at shutdown nothing it held should wait for the expiry. */
    async removeNode(): Promise<void> {
      await db.execute(sql`with gone as (delete from concurrency_leases where node_id = ${options.nodeId} returning root_id)
        select pg_notify(${LEASE_CHANNEL}, root_id) from (select distinct root_id from gone) as roots`);
    },

    async stats(keyId: string, accountId?: string) {
      const [row] = await db.execute<{ key_in_flight: number; key_queued: number; account_in_flight: number }>(sql`
        select count(*) filter (where granted and key_id = ${keyId})::int as key_in_flight,
               count(*) filter (where not granted and key_id = ${keyId})::int as key_queued,
               count(*) filter (where granted and account_id = ${accountId ?? null})::int as account_in_flight
        from concurrency_leases where ${live} and (key_id = ${keyId} or account_id = ${accountId ?? null})`);
      return { keyInFlight: row?.key_in_flight ?? 0, keyQueued: row?.key_queued ?? 0, accountInFlight: row?.account_in_flight ?? 0 };
    },

    async subtreeInFlight(accountId: string): Promise<number> {
      const [row] = await db.execute<{ count: number }>(sql`
        select count(*)::int as count from concurrency_leases where granted and ${live} and ${accountId} = any(chain)`);
      return row?.count ?? 0;
    },
  };
}

export type LeaseTable = ReturnType<typeof createLeaseTable>;
