import { type LlamaContextSequence, type SequenceEvaluateOptions, type Token, TokenPredictor } from "node-llama-cpp";

/**
 * A sequence's token predictor is fixed when the sequence is made, so drafting is switched on and
 * off here instead: while off, the inner predictor is never reset, fed or asked, and costs
 * nothing. `draftThisRun` is set per request before it evaluates; `keepDrafting` is asked before
 * every step and can end drafting for the rest of the run.
 */
export class AdaptiveTokenPredictor extends TokenPredictor {
  readonly inner: TokenPredictor;
  private readonly keepDrafting: () => boolean;
  private drafting = false;
  private cut = false;

  constructor(inner: TokenPredictor, keepDrafting: () => boolean) {
    super();
    this.inner = inner;
    this.keepDrafting = keepDrafting;
  }

  /** Call before a request evaluates anything on the sequence. */
  draftThisRun(draft: boolean): void {
    this.drafting = draft;
    this.cut = false;
  }

  /** Whether drafting was on for the whole run, so its acceptance says something about the draft. */
  get draftedWholeRun(): boolean {
    return this.drafting && !this.cut;
  }

  reset(params: { targetSequence: LlamaContextSequence; stateTokens: Token[]; evaluateOptions: Readonly<SequenceEvaluateOptions> }) {
    if (this.drafting && !this.cut) return this.inner.reset(params);
  }

  pushTokens(tokens: Token[]): void {
    if (this.drafting && !this.cut) this.inner.pushTokens(tokens);
  }

  predictTokens(): Token[] | Promise<Token[]> {
    if (!this.drafting || this.cut) return [];
    if (!this.keepDrafting()) {
      this.cut = true;
      this.inner.stop();
      return [];
    }
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
