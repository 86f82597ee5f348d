/** A request as the fleet queue sees it: what it counts against and the caps it must fit under. */
export interface SlotClaim {
  keyId: string;
  accountId: string;
  /** The account and every account above it, nearest first. */
  chain: readonly string[];
  keyLimit: number;
  /** 0: no account cap. */
  accountLimit: number;
  /** Each chain entry's subtree cap (0: none), in chain order. */
  chainLimits: readonly number[];
}

/** Slots held in one tree: `count` requests of the same key, account and chain. */
export interface HeldSlots {
  keyId: string;
  accountId: string;
  chain: readonly string[];
  count: number;
}

/**
 * Whether `claim` may take a slot now: counts what is held, then lets every older waiter of the
 * tree take a slot first, oldest first, where all of its caps have room (as the in-process
 * limiter's pump would), and asks whether the claim still fits. A slot an older waiter can use is
 * kept for it even before its node notices.
 */
export function replaySlotQueue(held: readonly HeldSlots[], olderWaiters: readonly SlotClaim[], claim: SlotClaim): boolean {
  const keys = new Map<string, number>();
  const accounts = new Map<string, number>();
  const subtrees = new Map<string, number>();
  const bump = (map: Map<string, number>, id: string, by: number) => map.set(id, (map.get(id) ?? 0) + by);
  const take = (slots: Omit<HeldSlots, "count">, count: number) => {
    bump(keys, slots.keyId, count);
    bump(accounts, slots.accountId, count);
    for (const id of slots.chain) bump(subtrees, id, count);
  };
  const fits = (c: SlotClaim) =>
    (keys.get(c.keyId) ?? 0) < c.keyLimit &&
    (c.accountLimit === 0 || (accounts.get(c.accountId) ?? 0) < c.accountLimit) &&
    c.chain.every((id, index) => (c.chainLimits[index] ?? 0) === 0 || (subtrees.get(id) ?? 0) < c.chainLimits[index]!);

  for (const slots of held) take(slots, slots.count);
  for (const waiter of olderWaiters) if (fits(waiter)) take(waiter, 1);
  return fits(claim);
}
