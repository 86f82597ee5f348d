/** What a free slot's cache holds, as far as choosing among slots is concerned. */
export interface SlotCache {
  slot: number;
  /** The scope whose request last wrote the slot's KV cache; null: none that may reuse it (prompt cache off, or forgotten). */
  scope: string | null;
  /** The tokens the slot's KV cache holds now. */
  tokens: readonly number[];
  /** Logical time of the slot's last release; 0 for a slot never used. */
  lastUsed: number;
}

/** Who may reuse what: the request's cache scope and its prompt as the sequence will see it. */
export interface CacheIdentity {
  /** Derived from the caller on the server side (account or key id); null: this request reuses nothing. */
  scope: string | null;
  tokens: readonly number[];
}

/**
 * A common prefix shorter than this share of the prompt is not worth evicting a least recently
 * used slot for: a chat template's opening tokens match every prompt of the account, and chasing
 * them would overwrite the cache of another conversation that is still going on.
 */
export const MIN_PREFIX_SHARE = 0.1;

export function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  const length = Math.min(a.length, b.length);
  let index = 0;
  while (index < length && a[index] === b[index]) index++;
  return index;
}

/** Whether `longer` starts with all of `shorter`. */
export const extendsPrefix = (longer: readonly number[], shorter: readonly number[]) => commonPrefixLength(longer, shorter) === shorter.length;

/** How many busy neighbours (0-2) a slot has: a KV cache per sequence batches only runs of consecutive slots. */
function busyNeighbours(slot: number, busy: ReadonlySet<number>): number {
  return (busy.has(slot - 1) ? 1 : 0) + (busy.has(slot + 1) ? 1 : 0);
}

/** The slot with the most busy neighbours, then the least recently used. */
function nextToBusy(candidates: readonly SlotCache[], busy: ReadonlySet<number> | undefined): SlotCache | undefined {
  let chosen: SlotCache | undefined;
  let chosenNeighbours = -1;
  for (const candidate of candidates) {
    const neighbours = busy == null ? 0 : busyNeighbours(candidate.slot, busy);
    if (neighbours > chosenNeighbours || (neighbours === chosenNeighbours && candidate.lastUsed < chosen!.lastUsed)) [chosen, chosenNeighbours] = [candidate, neighbours];
  }
  return chosen;
}

/**
 * The free slot a request should take: the one of its own scope whose cached tokens share the
 * longest prefix with its prompt, else the least recently used. Another scope's tokens never
 * count, so a request of one account is never steered by (or towards) another account's prompts.
 *
 * Given the busy slots (a KV cache per sequence, which llama.cpp decodes in one pass only over
 * consecutive sequence ids), the slot with the most busy neighbours comes first wherever the
 * prefix does not decide: among slots that share the longest prefix equally (an account's requests
 * that open with the same system prompt), and for a request without such a prefix. The busy slots
 * then stay in as few runs as they can; the least recently used decides what is left.
 */
export function chooseSlot(free: readonly SlotCache[], identity: CacheIdentity | undefined, busy?: ReadonlySet<number>): SlotCache | undefined {
  if (identity?.scope != null) {
    let longest: SlotCache[] = [];
    let longestPrefix = 0;
    for (const candidate of free) {
      if (candidate.scope !== identity.scope) continue;
      const prefix = commonPrefixLength(candidate.tokens, identity.tokens);
      if (prefix > longestPrefix) [longest, longestPrefix] = [[candidate], prefix];
      else if (prefix === longestPrefix && prefix > 0) longest.push(candidate);
    }
    if (longest.length > 0 && longestPrefix >= Math.max(1, identity.tokens.length * MIN_PREFIX_SHARE)) return nextToBusy(longest, busy);
  }
  return nextToBusy(free, busy);
}

/** Whether a slot must be erased before `identity`'s request may run on it: it holds tokens of another (or no) scope. */
export function mustClear(slot: Pick<SlotCache, "scope" | "tokens">, identity: CacheIdentity | undefined): boolean {
  if (identity == null || slot.tokens.length === 0) return false;
  return identity.scope == null || slot.scope !== identity.scope;
}
