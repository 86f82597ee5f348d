import type { LlamaContextSequence, LlamaModel, SequenceEvaluateOptions, Token } from "node-llama-cpp";
import type { TokenLogprob } from "./types";

/**
 * Token log-probabilities for a generation that LlamaCompletion or LlamaChat runs as usual.
 *
 * node-llama-cpp 3.21.1 reports a token's probabilities only from
 * `LlamaContextSequence.evaluateWithMetadata(tokens, { probabilities: true }, options)`; its
 * LlamaCompletion and LlamaChat sample through `sequence.evaluate(tokens, options)`, which is
 * that same generator with no metadata asked for. So while a capture is open, the sequence has
 * its own `evaluate`: that generator with probabilities on. The tokens, sampler options, grammar,
 * stop triggers, chat template, function calling and token predictor are the ones the generation
 * uses without logprobs, and each sampled token's distribution is recorded. The generation then
 * reports the tokens it releases as output (`released`, from onToken) and the text they make
 * (`take`, from onTextChunk, which follows each onToken with the same tokens); tokens it holds
 * back and never releases (a stop sequence, end of turn) are passed over.
 *
 * What a logprob is: the natural log of the probability llama.cpp's sampler chain gave the token
 * (native `sampleToken` with probabilities: a softmax over the candidates left after the chain).
 * At temperature 0 (greedy) that is the whole vocabulary after logit_bias and penalties, masked
 * by the grammar when one applies. At temperature > 0 it is the distribution the token was drawn
 * from: top-k (40), top_p, then scaled by the temperature, like llama-server's
 * `post_sampling_probs`. Alternatives with probability 0 (banned, masked, filtered out) are left
 * out, so `top` can hold fewer than asked.
 *
 * Asking for probabilities makes llama.cpp apply a grammar before the sampler chain rather than
 * test the sampled token against it: greedy output is the same, but seeded sampling under a
 * grammar can draw differently than without logprobs. At temperature 0 the native side also
 * sorts the whole vocabulary for every token and hands it to JS as a Map, so the cost grows with
 * the vocabulary (measured on 1 CPU thread: +0.2 ms per token at 512 tokens, +6 ms at 32k, +29 ms
 * at 152k; with top 0 only the sort: +3 ms at 32k, +13 ms at 152k). At temperature > 0 top-k has
 * already cut the list to 40 and the cost is under 0.3 ms per token.
 */
export interface LogprobCapture extends Disposable {
  /** Tokens the generation released as output, in order (onToken). */
  released(tokens: readonly Token[]): void;
  /** Tokens released into a segment that is not output, such as a model's thoughts. */
  skipped(tokens: readonly Token[]): void;
  /**
   * The logprobs of the tokens released since the last call; `text` is the text those tokens
   * make, and the returned tokens' strings join to exactly that text.
   */
  take(text: string): TokenLogprob[];
  /**
   * Throws if a released token was never sampled on the sequence, which would make its logprobs
   * wrong. Callbacks cannot throw (node-llama-cpp logs and swallows their errors), so the
   * generation asks once it has ended.
   */
  check(): void;
}

/** One sampled token with what the capture keeps of its distribution. */
interface Sampled {
  token: Token;
  logprob: number;
  top: { token: Token; logprob: number }[];
}

/** Stands in for log(0) so JSON keeps a number; OpenAI uses the same floor. */
const IMPOSSIBLE_LOGPROB = -9999;

/**
 * Opens a capture on a sequence that this caller alone uses until it disposes the capture (the
 * scheduler's lease); disposing gives the sequence back the prototype's `evaluate`.
 * `topLogprobs` is how many alternatives each token reports.
 */
export function createLogprobCapture(sequence: LlamaContextSequence, topLogprobs: number): LogprobCapture {
  const model = sequence.model;
  const sampled: Sampled[] = [];
  let head = 0;
  let pending: Sampled[] = [];
  /** Released tokens so far: the detokenizer's context (leading spaces, multi-byte characters). */
  const history: Token[] = [];
  let unmatched: Token | undefined;

  async function* evaluate(tokens: Token[], options: SequenceEvaluateOptions = {}): AsyncGenerator<Token, void, void | Token | Token[]> {
    // Without alternatives the token's own probability is enough, and spares building the whole
    // distribution in JS for every token.
    const iterator: AsyncGenerator<{ token: Token; probabilities?: ReadonlyMap<Token, number>; confidence?: number }, void, void | Token | Token[]> =
      topLogprobs > 0
        ? sequence.evaluateWithMetadata(tokens, { probabilities: true }, options)
        : sequence.evaluateWithMetadata(tokens, { confidence: true }, options);
    let input: void | Token | Token[] = undefined;
    try {
      while (true) {
        const { value, done } = await iterator.next(input);
        if (done) return;
        sampled.push(
          value.probabilities != null ? summarize(value.token, value.probabilities, topLogprobs) : { token: value.token, logprob: logOf(value.confidence), top: [] },
        );
        input = yield value.token;
        // A replacement means the sampled token was never generated (neither caller replaces in 3.21.1).
        if (input != null) sampled.pop();
      }
    } finally {
      await iterator.return();
    }
  }
  Object.defineProperty(sequence, "evaluate", { value: evaluate, configurable: true, writable: true });

  /** The sampled records of released tokens, in order; tokens sampled but never released are passed over. */
  function align(tokens: readonly Token[]): Sampled[] {
    const found: Sampled[] = [];
    for (const token of tokens) {
      let at = head;
      while (at < sampled.length && sampled[at]!.token !== token) at++;
      if (at === sampled.length) {
        unmatched ??= token;
        found.push({ token, logprob: IMPOSSIBLE_LOGPROB, top: [] });
        continue;
      }
      found.push(sampled[at]!);
      head = at + 1;
    }
    if (head > 1024) {
      sampled.splice(0, head);
      head = 0;
    }
    return found;
  }

  return {
    released(tokens) {
      pending.push(...align(tokens));
    },
    skipped(tokens) {
      align(tokens);
      history.push(...tokens);
    },
    take(text) {
      const records = pending;
      pending = [];
      const pieces = splitText(model, records.map((record) => record.token), text, history);
      const result = records.map((record, index): TokenLogprob => {
        const before = [...history, ...records.slice(0, index).map((r) => r.token)];
        return {
          token: pieces[index]!,
          logprob: record.logprob,
          top: record.top.map((alternative) => ({ token: tokenText(model, alternative.token, before), logprob: alternative.logprob })),
        };
      });
      history.push(...records.map((record) => record.token));
      if (history.length > 64) history.splice(0, history.length - 16);
      return result;
    },
    check() {
      if (unmatched != null) throw new Error(`released token ${unmatched} was not sampled on this sequence, so its logprob is unknown`);
    },
    [Symbol.dispose]() {
      // Back to the prototype's evaluate.
      delete (sequence as { evaluate?: unknown }).evaluate;
    },
  };
}

function summarize(token: Token, probabilities: ReadonlyMap<Token, number>, topLogprobs: number): Sampled {
  const top: Sampled["top"] = [];
  // The map is ordered from the most to the least probable token.
  for (const [alternative, probability] of probabilities) {
    if (top.length >= topLogprobs || probability <= 0) break;
    top.push({ token: alternative, logprob: Math.log(probability) });
  }
  return { token, logprob: logOf(probabilities.get(token)), top };
}

function logOf(probability: number | undefined): number {
  return probability != null && probability > 0 ? Math.log(probability) : IMPOSSIBLE_LOGPROB;
}

/**
 * Each token's share of `text`, the text the tokens make after `history`. A token that ends
 * inside a multi-byte UTF-8 character gets "" and the token that completes the character gets
 * all of it, so the pieces always join to `text`.
 */
export function splitText(model: Pick<LlamaModel, "detokenize">, tokens: readonly Token[], text: string, history: readonly Token[]): string[] {
  const pieces: string[] = [];
  let consumed = 0;
  for (let index = 0; index < tokens.length; index++) {
    if (index === tokens.length - 1) {
      pieces.push(text.slice(consumed));
      break;
    }
    const prefix = model.detokenize(tokens.slice(0, index + 1), false, history).replace(/\uFFFD+$/, "");
    let end = 0;
    while (end < prefix.length && end < text.length && prefix[end] === text[end]) end++;
    end = Math.max(end, consumed);
    pieces.push(text.slice(consumed, end));
    consumed = end;
  }
  return pieces;
}

/** An alternative's text: special tokens (end of turn and the like) by name, as they have no text. */
function tokenText(model: LlamaModel, token: Token, before: readonly Token[]): string {
  if (model.isSpecialToken(token)) return model.detokenize([token], true);
  return model.detokenize([token], false, before);
}
