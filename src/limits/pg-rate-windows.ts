import { and, eq, lt, sql, type SQL } from "drizzle-orm";
import type { PgDb } from "../db/pg-client";
import { rateWindows } from "../db/pg-schema";
import type { RateWindowReading, RateWindows } from "./rate-windows";

type Bucket = { second: number | string; amount: number | string };

/**
 * The windows of a fleet, in rate_windows: one row per key, measure and second, summed over the
 * last minute. A bucket leaves the window when its whole second has, so an amount counts for 60 to
 * 61 s, never less: the fleet may refuse a little early, never admit more than the limit. Seconds
 * come from the caller's clock, so nodes' clocks should agree (NTP) to well under a second. A
 * `take` holds the key's advisory lock while it sums the window and adds, so takes on several
 * nodes never pass the limit together. Each key's buckets older than the window are deleted by a
 * later write of that key, at most once a window per node.
 */
export function createPgRateWindows(db: PgDb, measure: "requests" | "tokens", windowMs = 60_000): RateWindows {
  const prunedAt = new Map<string, number>();
  const oldestSecond = (at: number) => Math.floor((at - windowMs) / 1000);
  const where = (keyId: string) => and(eq(rateWindows.keyId, keyId), eq(rateWindows.measure, measure));

  function readingOf(buckets: readonly Bucket[], at: number): RateWindowReading {
    const sorted = buckets.map((b) => ({ leavesAt: (Number(b.second) + 1) * 1000 + windowMs, amount: Number(b.amount) })).sort((a, b) => a.leavesAt - b.leavesAt);
    const used = sorted.reduce((sum, bucket) => sum + bucket.amount, 0);
    return {
      used,
      msUntilBelow(limit) {
        let remaining = used;
        for (const bucket of sorted) {
          if (remaining < limit) return 0;
          remaining -= bucket.amount;
          if (remaining < limit) return Math.max(0, bucket.leavesAt - at);
        }
        return remaining < limit ? 0 : windowMs;
      },
    };
  }

  function prune(keyId: string, at: number) {
    if (at - (prunedAt.get(keyId) ?? -Infinity) < windowMs) return;
    prunedAt.set(keyId, at);
    void db.delete(rateWindows).where(and(where(keyId), lt(rateWindows.second, oldestSecond(at)))).catch(() => {});
  }

  const upsertWhere = (keyId: string, second: number, amount: number, condition: SQL) =>
    sql`insert into rate_windows (key_id, measure, second, amount) select ${keyId}, ${measure}, ${second}, ${amount} where ${condition}
        on conflict (key_id, measure, second) do update set amount = rate_windows.amount + excluded.amount`;

  return {
    async read(keyId, at) {
      const buckets = await db.select({ second: rateWindows.second, amount: rateWindows.amount }).from(rateWindows).where(and(where(keyId), sql`${rateWindows.second} >= ${oldestSecond(at)}`));
      return readingOf(buckets, at);
    },

    async take(keyId, at, amount, limit) {
      const second = Math.floor(at / 1000);
      const buckets = await db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`enclave.rate:${measure}:${keyId}`}, 0))`);
        // Taken only if it fits; the buckets returned are those from before it (the statement's snapshot).
        const [row] = await tx.execute(sql`
          with window_now as (
            select second, amount from rate_windows where key_id = ${keyId} and measure = ${measure} and second >= ${oldestSecond(at)}),
          bumped as (
            ${upsertWhere(keyId, second, amount, sql`(select coalesce(sum(amount), 0) from window_now) + ${amount} <= ${limit}`)} returning 1)
          select (select count(*) from bumped)::int as taken, coalesce((select json_agg(window_now) from window_now), '[]') as buckets`);
        return row as { taken: number; buckets: Bucket[] };
      });
      prune(keyId, at);
      const taken = buckets.taken === 1;
      const after = taken ? [...buckets.buckets, { second, amount }] : buckets.buckets;
      return { taken, reading: readingOf(after, at) };
    },

    async add(keyId, at, amount) {
      if (amount <= 0) return;
      await db.execute(upsertWhere(keyId, Math.floor(at / 1000), amount, sql`true`));
      prune(keyId, at);
    },
  };
}
