import type { Token } from "node-llama-cpp";
import type { Logger } from "../logging/logger";
import { commonPrefixLength, extendsPrefix, MIN_PREFIX_SHARE } from "./choose-slot";
import { engineFailure } from "./engine-failure";
import type { ModelRuntime } from "./model-runtime";
import { createSavedPrefixes, type SavedPrefix } from "./saved-prefixes";

/** Fewer tokens than this are quicker to evaluate again than to copy out and back. */
export const MIN_SAVED_TOKENS = 32;

interface SequenceState {
  state: Uint8Array;
  tokens: Token[];
}

/** A slot's state: the target's, and its draft's when the draft held tokens, so a restored draft proposes from the same prompt. */
interface SlotState {
  target: SequenceState;
  draft?: SequenceState;
}

/**
 * `[models] prompt_cache_mb`: a slot's cached prefix that is about to be lost (its sequence goes to
 * another scope, or to another conversation of the same scope) is copied into RAM, and copied back
 * into the sequence a later request of the same scope runs on when it shares more with that
 * request than the sequence does. The caller keeps the isolation: it saves only under the scope
 * that wrote a slot and asks only with the scope of the request.
 */
export interface RamPromptCache {
  /**
   * Copies the slot's state out for `scope`, which wrote it, before the slot is erased for another
   * scope's request. The copy is stored at that request's `prepare`, after the request took its own
   * entry: stored first, it could push out the very prefix the request comes back for.
   */
  evict(slot: number, scope: string): Promise<void>;
  /**
   * Before a request of `scope` runs on `slot` (which holds nothing of another scope): restores the
   * saved prefix that shares most with `tokens` when it beats what the slot holds, and saves the
   * slot's own tokens first when the request would overwrite enough of them.
   */
  prepare(slot: number, scope: string, tokens: readonly number[]): Promise<void>;
  forget(matches: (scope: string) => boolean): void;
  clear(): void;
  scopes(): string[];
  readonly entries: number;
  readonly bytes: number;
}

export interface RamPromptCacheOptions {
  runtime: ModelRuntime;
  budgetBytes: number;
  /** Model id, for log lines. */
  model: string;
  logger: Pick<Logger, "warn">;
}

/** Whether losing `lost` of a slot's `held` tokens is worth a copy: enough of them, and a fair share of the slot. */
export function worthSaving(held: number, lost: number): boolean {
  return lost >= MIN_SAVED_TOKENS && lost * 4 >= held;
}

/** Null where the addon cannot copy sequence states (node-llama-cpp's prebuilt one): the caller warns and goes without. */
export function createRamPromptCache(options: RamPromptCacheOptions): RamPromptCache | null {
  const { runtime, logger, model } = options;
  if (!runtime.sequences.every((sequence) => sequence.canSaveStateToMemory)) return null;
  // The copy held what the prompt was made of: zeroed, not just dropped for the collector.
  const zero = (state: SlotState) => {
    state.target.state.fill(0);
    state.draft?.state.fill(0);
  };
  const saved = createSavedPrefixes<SlotState>({ budgetBytes: options.budgetBytes, discard: zero });
  /** Copies being made, and evicted ones waiting for the next request on their slot; a forgotten scope's are marked and zeroed. */
  const copying = new Set<{ scope: string; forgotten: boolean }>();
  const evicted = new Map<number, SavedPrefix<SlotState>>();

  function forget(matches: (scope: string) => boolean) {
    saved.forget(matches);
    for (const copy of copying) if (matches(copy.scope)) copy.forgotten = true;
    for (const [slot, pending] of evicted) {
      if (!matches(pending.scope)) continue;
      evicted.delete(slot);
      zero(pending.state);
    }
  }

  /** Whether the scope has these tokens in RAM already, kept or waiting to be. */
  function holds(scope: string, tokens: readonly number[]): boolean {
    if (saved.covers(scope, tokens)) return true;
    for (const pending of evicted.values()) if (pending.scope === scope && extendsPrefix(pending.tokens, tokens)) return true;
    return false;
  }

  async function copyOut(slot: number, scope: string): Promise<SavedPrefix<SlotState> | undefined> {
    const sequence = runtime.sequences[slot];
    if (sequence == null || sequence.contextTokens.length < MIN_SAVED_TOKENS) return undefined;
    // A copy costs milliseconds under the context lock, which every other stream's next batch waits
    // for; requests that repeat a prompt (and greedy ones their answer too) would make it each time.
    if (holds(scope, sequence.contextTokens)) return undefined;
    const copy = { scope, forgotten: false };
    copying.add(copy);
    let state: SlotState | undefined;
    try {
      const draft = runtime.draftSequences[slot];
      state = { target: await sequence.saveStateToMemory() };
      if (draft != null && draft.contextTokens.length > 0) state.draft = await draft.saveStateToMemory();
      if (!copy.forgotten) return { scope, tokens: state.target.tokens, state, bytes: state.target.state.byteLength + (state.draft?.state.byteLength ?? 0) };
      zero(state);
    } catch (error) {
      if (state != null) zero(state);
      logger.warn({ model, err: engineFailure(error) }, "prompt cache: a prefix could not be copied to RAM");
    } finally {
      copying.delete(copy);
    }
    return undefined;
  }

  function storeEvicted(slot: number) {
    const pending = evicted.get(slot);
    if (pending == null) return;
    evicted.delete(slot);
    saved.keep(pending);
  }

  async function restore(slot: number, state: SlotState) {
    const sequence = runtime.sequences[slot]!;
    const draft = runtime.draftSequences[slot];
    try {
      // A refused state leaves the sequence empty: the request then evaluates its prompt cold.
      await sequence.loadStateFromMemory(state.target);
      if (draft != null && (state.draft == null || !(await draft.loadStateFromMemory(state.draft)))) await draft.clearHistory();
    } catch (error) {
      logger.warn({ model, err: engineFailure(error) }, "prompt cache: a prefix could not be restored from RAM");
      await sequence.clearHistory().catch(() => {});
      await draft?.clearHistory().catch(() => {});
    } finally {
      zero(state);
    }
  }

  return {
    async evict(slot, scope) {
      // An earlier eviction whose request never ran (it was aborted while waiting) is stored now.
      storeEvicted(slot);
      const copy = await copyOut(slot, scope);
      if (copy != null) evicted.set(slot, copy);
    },
    async prepare(slot, scope, tokens) {
      const sequence = runtime.sequences[slot];
      if (sequence == null) return;
      const held = sequence.contextTokens;
      const heldPrefix = commonPrefixLength(held, tokens);
      const found = saved.take(scope, tokens, Math.max(heldPrefix + MIN_SAVED_TOKENS, tokens.length * MIN_PREFIX_SHARE));
      storeEvicted(slot);
      const lost = held.length - (found == null ? heldPrefix : 0);
      if (worthSaving(held.length, lost)) {
        const copy = await copyOut(slot, scope);
        if (copy != null) saved.keep(copy);
      }
      if (found != null) await restore(slot, found.saved.state);
    },
    forget,
    clear: () => forget(() => true),
    scopes: () => [...new Set([...saved.scopes(), ...[...evicted.values()].map((pending) => pending.scope)])],
    get entries() {
      return saved.entries + evicted.size;
    },
    get bytes() {
      return saved.bytes + [...evicted.values()].reduce((sum, pending) => sum + pending.bytes, 0);
    },
  };
}
