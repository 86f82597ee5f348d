import { type LlamaContextSequence, type SequenceEvaluateOptions, type Token, TokenPredictor } from "node-llama-cpp";
import { runPhases } from "./run-phases";
import type { SpeculativeRun } from "./speculative-controller";

/** A run's one change of mode: after how many generated tokens, and when the new mode took over. */
export interface ModeChange {
  afterTokens: number;
  at: number;
}

type ResetParams = { targetSequence: LlamaContextSequence; stateTokens: Token[]; evaluateOptions: Readonly<SequenceEvaluateOptions> };

/**
 * A sequence's token predictor is fixed when the sequence is made, so drafting is switched on and
 * off here instead: while off, the inner predictor is never reset, fed or asked, and costs
 * nothing. `draftThisRun` is set per request before it evaluates. A run can change mode midway:
 * after its measuring slice (`switchAfter` generated tokens), when `keepDrafting`, asked before
 * every drafting step, says no, and, in a run that measures both modes (`chooseRest`), once more
 * after a second slice if the two slices chose the first mode. A draft that joins midway is reset
 * to the tokens so far; it keeps what it had evaluated of them and evaluates the rest in one
 * batch, as it would a prompt.
 */
export class AdaptiveTokenPredictor extends TokenPredictor {
  readonly inner: TokenPredictor;
  private readonly keepDrafting: () => boolean;
  private drafting = false;
  private startedDrafting = false;
  private switchAfter: number | undefined;
  private chooseRest: SpeculativeRun["chooseRest"];
  private generated = 0;
  private changes: ModeChange[] = [];
  private resetParams: ResetParams | undefined;
  // Only kept while a draft may still join: the run's tokens from the reset on.
  private stateTokens: Token[] = [];
  // Only kept while the run's slices are to choose its rest: when each generated token arrived.
  private tokenTimes: number[] = [];

  // Sets the inner predictor's draft length for the next step from the target's validation counts (see draft-length.ts).
  private readonly sizeDraft: ((target: LlamaContextSequence) => void) | undefined;
  private target: LlamaContextSequence | undefined;

  constructor(inner: TokenPredictor, keepDrafting: () => boolean, sizeDraft?: (target: LlamaContextSequence) => void) {
    super();
    this.inner = inner;
    this.keepDrafting = keepDrafting;
    this.sizeDraft = sizeDraft;
  }

  /** Call before a request evaluates anything on the sequence. */
  draftThisRun(run: SpeculativeRun): void {
    this.drafting = run.drafting;
    this.startedDrafting = run.drafting;
    this.switchAfter = run.switchAfter;
    this.chooseRest = run.switchAfter == null ? undefined : run.chooseRest;
    this.generated = 0;
    this.changes = [];
    this.resetParams = undefined;
    this.stateTokens = [];
    this.tokenTimes = [];
  }

  /** Where the run changed mode, in order; each change switches to the other mode. */
  get modeChanges(): readonly ModeChange[] {
    return this.changes;
  }

  /** After how many generated tokens the run's next change is due, if one is planned. */
  private get nextSwitch(): number | undefined {
    if (this.switchAfter == null) return undefined;
    if (this.changes.length === 0) return this.switchAfter;
    if (this.changes.length === 1 && this.chooseRest != null) return this.changes[0]!.afterTokens + this.switchAfter;
    return undefined;
  }

  private get mayJoin(): boolean {
    return !this.drafting && this.nextSwitch != null;
  }

  /**
   * Whether this run proposes nothing from here to its end: not drafting, and no slice for a draft
   * to join. The patched sequence then decodes a lone stream's tokens in runs, as without a
   * predictor (see `LlamaContext.loneRunMs`); each token still reaches pushTokens as it is given.
   */
  mayRunAhead(): boolean {
    return !this.drafting && !this.mayJoin;
  }

  reset(params: ResetParams) {
    this.target = params.targetSequence;
    if (this.nextSwitch != null) {
      this.resetParams = params;
      this.stateTokens = params.stateTokens.slice();
    }
    if (this.drafting) return this.inner.reset(params);
  }

  pushTokens(tokens: Token[]): void {
    this.generated += tokens.length;
    if (this.chooseRest != null) {
      const now = performance.now();
      for (const _ of tokens) this.tokenTimes.push(now);
    }
    if (this.drafting) this.inner.pushTokens(tokens);
    if (this.nextSwitch != null) this.stateTokens.push(...tokens);
  }

  predictTokens(): Token[] | Promise<Token[]> {
    const due = this.nextSwitch != null && this.generated >= this.nextSwitch;
    // The second slice is over: the rest runs in the mode the two slices chose, with no change if that is this one.
    if (due && this.changes.length === 1) {
      const draftRest = this.chooseRest!(runPhases(this.startedDrafting, this.tokenTimes, this.changes));
      this.chooseRest = undefined;
      this.tokenTimes = [];
      if (draftRest === this.drafting) return this.drafting ? this.draft() : [];
    }
    if (this.drafting) {
      if (!due && this.keepDrafting()) return this.draft();
      this.drafting = false;
      // A draft stopped by contention stays stopped: its slice no longer measures an uncontended run.
      if (!due) this.chooseRest = undefined;
      this.changes.push({ afterTokens: this.generated, at: performance.now() });
      this.inner.stop();
      return [];
    }
    if (!due || this.resetParams == null || !this.keepDrafting()) return [];
    this.drafting = true;
    const afterTokens = this.generated;
    const params = { ...this.resetParams, stateTokens: this.stateTokens };
    this.stateTokens = [];
    // The drafted stretch is timed from when its draft has caught up, as a run's is from its first token.
    return Promise.resolve(this.inner.reset(params)).then(() => {
      this.changes.push({ afterTokens, at: performance.now() });
      return this.draft();
    });
  }

  private draft(): Token[] | Promise<Token[]> {
    if (this.target != null) this.sizeDraft?.(this.target);
    return this.inner.predictTokens();
  }

  override stop(untilPredictionsExhausted?: boolean) {
    return this.inner.stop(untilPredictionsExhausted);
  }

  override updateInputTokens(tokens: Token[]): void {
    this.inner.updateInputTokens(tokens);
  }

  override dispose() {
    return this.inner.dispose();
  }
}
