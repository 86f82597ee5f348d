import { type LlamaContextSequence, type SequenceEvaluateOptions, type Token, TokenPredictor } from "node-llama-cpp";
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
 * nothing. `draftThisRun` is set per request before it evaluates. A run can change mode once
 * midway: after its measuring slice (`switchAfter` generated tokens), or when `keepDrafting`,
 * asked before every drafting step, says no. A draft that joins midway is reset to the tokens so
 * far, which it evaluates in one batch, as it would a prompt.
 */
export class AdaptiveTokenPredictor extends TokenPredictor {
  readonly inner: TokenPredictor;
  private readonly keepDrafting: () => boolean;
  private drafting = false;
  private switchAfter: number | undefined;
  private generated = 0;
  private change: ModeChange | undefined;
  private resetParams: ResetParams | undefined;
  // Only kept while a draft may still join: the run's tokens from the reset on.
  private stateTokens: Token[] = [];

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
    this.switchAfter = run.switchAfter;
    this.generated = 0;
    this.change = undefined;
    this.resetParams = undefined;
    this.stateTokens = [];
  }

  /** Where the run changed mode; undefined while it has not. */
  get modeChange(): ModeChange | undefined {
    return this.change;
  }

  private get mayJoin(): boolean {
    return !this.drafting && this.switchAfter != null && this.change == null;
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
    if (this.mayJoin) {
      this.resetParams = params;
      this.stateTokens = params.stateTokens.slice();
    }
    if (this.drafting) return this.inner.reset(params);
  }

  pushTokens(tokens: Token[]): void {
    this.generated += tokens.length;
    if (this.drafting) this.inner.pushTokens(tokens);
    else if (this.mayJoin) this.stateTokens.push(...tokens);
  }

  predictTokens(): Token[] | Promise<Token[]> {
    const sliceOver = this.switchAfter != null && this.change == null && this.generated >= this.switchAfter;
    if (this.drafting) {
      if (!sliceOver && this.keepDrafting()) {
        if (this.target != null) this.sizeDraft?.(this.target);
        return this.inner.predictTokens();
      }
      this.drafting = false;
      this.change = { afterTokens: this.generated, at: performance.now() };
      this.inner.stop();
      return [];
    }
    if (!sliceOver || this.resetParams == null || !this.keepDrafting()) return [];
    this.drafting = true;
    const afterTokens = this.generated;
    const params = { ...this.resetParams, stateTokens: this.stateTokens };
    this.stateTokens = [];
    // The drafted stretch is timed from when its draft has caught up, as a run's is from its first token.
    return Promise.resolve(this.inner.reset(params)).then(() => {
      this.change = { afterTokens, at: performance.now() };
      return this.inner.predictTokens();
    });
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
