/** A target sequence's counts of draft tokens it validated and refuted so far (node-llama-cpp's `tokenPredictions`). */
export interface ValidationCounts {
  validated: number;
  refuted: number;
}

/**
 * How many tokens the draft proposes before the target validates them, step by step: it starts at
 * `floor`, doubles after a step whose proposals were all validated, up to `ceiling`, and goes back
 * to `floor` after a refutation. A draft waited for only `floor` (1 by default) took a step's
 * proposals from whatever it had drafted by then, which depended on scheduling: one more `await`
 * in the generation loop made an always-agreeing draft on the ~1B bench pair propose a third as
 * much. Growing while it agrees gave it 2.2-2.4x no-draft speed instead of 1.6-1.7x, and drafting forced
 * on at 10-35% disagreement was no slower than at a fixed `floor` (bench:spec, 2-core EPYC).
 */
export function createDraftLength(floor: number, ceiling: number) {
  let length = floor;
  let seen: ValidationCounts = { validated: 0, refuted: 0 };
  return {
    /** The length for the next step, given the target's counts now. */
    next(counts: ValidationCounts): number {
      if (counts.refuted > seen.refuted) length = floor;
      else if (counts.validated > seen.validated) length = Math.min(ceiling, length * 2);
      seen = { validated: counts.validated, refuted: counts.refuted };
      return length;
    },
  };
}
