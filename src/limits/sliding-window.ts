/**
 * Amounts (requests, tokens) added over time, summed over the last `windowMs`. Used for requests
 * and tokens per minute per key. Memory is bounded by what happened inside one window.
 */
export function createSlidingWindow(windowMs = 60_000) {
  const entries: { at: number; amount: number }[] = [];
  let total = 0;

  function expire(now: number) {
    while (entries.length > 0 && entries[0]!.at <= now - windowMs) total -= entries.shift()!.amount;
  }

  return {
    add(now: number, amount: number) {
      expire(now);
      if (amount <= 0) return;
      entries.push({ at: now, amount });
      total += amount;
    },
    used(now: number): number {
      expire(now);
      return total;
    },
    /** Milliseconds until the total falls below `limit` (0 if it already is). */
    msUntilBelow(now: number, limit: number): number {
      expire(now);
      let remaining = total;
      for (const entry of entries) {
        if (remaining < limit) break;
        remaining -= entry.amount;
        if (remaining < limit) return Math.max(0, entry.at + windowMs - now);
      }
      return remaining < limit ? 0 : windowMs;
    },
    /** True when nothing in the window remains; the owner may drop it. */
    isEmpty(now: number): boolean {
      expire(now);
      return entries.length === 0;
    },
  };
}

export type SlidingWindow = ReturnType<typeof createSlidingWindow>;
