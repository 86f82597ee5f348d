import type { ModeChange } from "./adaptive-token-predictor";
import type { RunPhase } from "./speculative-controller";

/**
 * Splits a run's decode time at its changes of mode, which alternate it between drafting and
 * not. `tokenTimes[i]` is when the (i + 1)-th generated token arrived; the first token is the
 * prompt's, so a phase counts the tokens that arrived after its start: the first token for the
 * first phase, its change for each later one. A phase without a token (the run ended at a
 * change) is left out.
 */
export function runPhases(startedDrafting: boolean, tokenTimes: readonly number[], changes: readonly ModeChange[] = []): RunPhase[] {
  const first = tokenTimes[0];
  if (first == null) return [];
  const phases: RunPhase[] = [];
  let drafting = startedDrafting;
  let startedAt = first;
  let counted = 1;
  const close = (end: number) => {
    const decodedTokens = end - counted;
    if (decodedTokens > 0) phases.push({ drafting, decodedTokens, decodeMs: Math.max(0, tokenTimes[end - 1]! - startedAt) });
  };
  for (const change of changes) {
    const end = Math.min(change.afterTokens, tokenTimes.length);
    close(end);
    drafting = !drafting;
    startedAt = change.at;
    counted = Math.max(end, 1);
  }
  close(tokenTimes.length);
  return phases;
}
