import { createSlidingWindow, type SlidingWindow } from "./sliding-window";

/** A key's total over the window, as read at one moment. */
export interface RateWindowReading {
  used: number;
  /** Milliseconds from that moment until the total falls below `limit` (0 if it already is). */
  msUntilBelow(limit: number): number;
}

/** One measure (requests or tokens) per key over the last minute: in process (one node) or on the shared store (a fleet). */
export interface RateWindows {
  read(keyId: string, at: number): Promise<RateWindowReading>;
  /** Adds `amount` unless the total would pass `limit`; the reading after (with the amount only when taken). */
  take(keyId: string, at: number, amount: number, limit: number): Promise<{ taken: boolean; reading: RateWindowReading }>;
  add(keyId: string, at: number, amount: number): Promise<void>;
}

/** The windows of one node, in memory: a key's window is dropped once nothing in it remains. */
export function createInProcessRateWindows(windowMs = 60_000): RateWindows {
  const windows = new Map<string, SlidingWindow>();
  const windowOf = (keyId: string) => {
    let window = windows.get(keyId);
    if (window == null) windows.set(keyId, (window = createSlidingWindow(windowMs)));
    return window;
  };
  const reading = (keyId: string, at: number): RateWindowReading => {
    const window = windowOf(keyId);
    const used = window.used(at);
    if (window.isEmpty(at)) windows.delete(keyId);
    return { used, msUntilBelow: (limit) => window.msUntilBelow(at, limit) };
  };
  return {
    async read(keyId, at) {
      return reading(keyId, at);
    },
    async take(keyId, at, amount, limit) {
      const taken = windowOf(keyId).used(at) + amount <= limit;
      if (taken) windowOf(keyId).add(at, amount);
      return { taken, reading: reading(keyId, at) };
    },
    async add(keyId, at, amount) {
      windowOf(keyId).add(at, amount);
    },
  };
}
