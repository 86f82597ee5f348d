import type { ModelHeader } from "./read-model-header";

/**
 * llama.cpp's own rule for a usable draft (common_speculative_are_compatible): the same
 * tokenizer, vocabulary sizes within 128 of each other (converters pad the embedding table
 * differently) and the same piece for every token id both have. Beyond that the target would be
 * asked to check ids that mean something else to it, or that it does not have.
 */
export const MAX_VOCAB_SIZE_DIFFERENCE = 128;

/** Why `draft` cannot draft for `target`, as one sentence with the numbers in it; null when it can. */
export function draftVocabMismatch(target: ModelHeader, draft: ModelHeader): string | null {
  if (draft.tokenizer !== target.tokenizer) return `the draft's tokenizer is ${draft.tokenizer}, the target's ${target.tokenizer}`;
  const difference = Math.abs(draft.vocabSize - target.vocabSize);
  if (difference > MAX_VOCAB_SIZE_DIFFERENCE)
    return `the draft has ${draft.vocabSize} tokens, the target ${target.vocabSize} (at most ${MAX_VOCAB_SIZE_DIFFERENCE} apart)`;
  const shared = Math.min(draft.vocabSize, target.vocabSize);
  for (let id = 0; id < shared; id++) {
    // The piece itself is not printed: only where the vocabularies part.
    if (draft.tokens[id] !== target.tokens[id]) return `token ${id} is a different piece in the draft than in the target`;
  }
  return null;
}
