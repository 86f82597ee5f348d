import { commonPrefixLength, extendsPrefix } from "./choose-slot";

/** A sequence's KV state kept in RAM after its sequence went to another prompt. */
export interface SavedPrefix<State> {
  /** The cache scope (account or key) whose requests wrote it: the only one that may read it back. */
  scope: string;
  /** The tokens the state holds. */
  tokens: readonly number[];
  state: State;
  bytes: number;
}

export interface SavedPrefixesOptions<State> {
  /** Bytes all saved states may take together; one that does not fit alone is not kept. */
  budgetBytes: number;
  /** Called once for every state that leaves the store unread (evicted, forgotten, cleared or refused), e.g. to zero it. */
  discard(state: State): void;
}

/**
 * The host-RAM prompt cache: prefixes evicted from the context's sequences, each under the scope
 * that wrote it, least recently saved or read evicted first. Only a request of the same scope
 * finds an entry, and taking one removes it (its state then lives in a sequence again). Memory
 * only: nothing here has a file behind it.
 */
export interface SavedPrefixes<State> {
  /** Keeps a state; drops the scope's entries whose tokens it extends, and drops itself when an entry already extends it. */
  keep(saved: SavedPrefix<State>): void;
  /** Whether an entry of the scope holds these tokens already (or more after them): a copy of them would be dropped at `keep`. */
  covers(scope: string, tokens: readonly number[]): boolean;
  /** Removes and returns the scope's entry sharing the longest prefix with `tokens`, if that prefix is at least `minPrefix`. */
  take(scope: string, tokens: readonly number[], minPrefix: number): { saved: SavedPrefix<State>; prefix: number } | undefined;
  /** Discards every entry whose scope matches. */
  forget(matches: (scope: string) => boolean): void;
  clear(): void;
  scopes(): string[];
  readonly entries: number;
  readonly bytes: number;
}

export function createSavedPrefixes<State>(options: SavedPrefixesOptions<State>): SavedPrefixes<State> {
  // Insertion order is recency: a kept entry goes to the end, eviction takes from the front.
  const entries: SavedPrefix<State>[] = [];
  let bytes = 0;

  function remove(index: number): SavedPrefix<State> {
    const [removed] = entries.splice(index, 1);
    bytes -= removed!.bytes;
    return removed!;
  }

  function discardWhere(matches: (saved: SavedPrefix<State>) => boolean) {
    for (let index = entries.length - 1; index >= 0; index--) if (matches(entries[index]!)) options.discard(remove(index).state);
  }

  const covers = (scope: string, tokens: readonly number[]) => entries.some((entry) => entry.scope === scope && extendsPrefix(entry.tokens, tokens));

  return {
    keep(saved) {
      if (saved.bytes > options.budgetBytes || covers(saved.scope, saved.tokens)) {
        options.discard(saved.state);
        return;
      }
      discardWhere((entry) => entry.scope === saved.scope && extendsPrefix(saved.tokens, entry.tokens));
      while (bytes + saved.bytes > options.budgetBytes) options.discard(remove(0).state);
      entries.push(saved);
      bytes += saved.bytes;
    },
    covers,
    take(scope, tokens, minPrefix) {
      let best = -1;
      let bestPrefix = 0;
      entries.forEach((entry, index) => {
        if (entry.scope !== scope) return;
        const prefix = commonPrefixLength(entry.tokens, tokens);
        if (prefix > bestPrefix) [best, bestPrefix] = [index, prefix];
      });
      if (best < 0 || bestPrefix < Math.max(1, minPrefix)) return undefined;
      return { saved: remove(best), prefix: bestPrefix };
    },
    forget(matches) {
      discardWhere((entry) => matches(entry.scope));
    },
    clear() {
      discardWhere(() => true);
    },
    scopes() {
      return [...new Set(entries.map((entry) => entry.scope))];
    },
    get entries() {
      return entries.length;
    },
    get bytes() {
      return bytes;
    },
  };
}
