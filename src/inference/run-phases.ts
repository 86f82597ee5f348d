import type { ModeChange } from "./adaptive-token-predictor";
import type { RunPhase } from "./speculative-controller";

/**
 * Splits a run's decode time at its change of mode. `tokenTimes[i]` is when the (i + 1)-th
 * generated token arrived; the first token is the prompt's, so a phase counts the tokens that
 * arrived after its start: the first token for the first phase, the change for the second.
 */
export function runPhases(startedDrafting: boolean, tokenTimes: readonly number[], change?: ModeChange): RunPhase[] {
  const first = tokenTimes[0];
  const last = tokenTimes.at(-1);
  if (first == null || last == null) return [];
  const switchedAt = change == null ? undefined : Math.min(change.afterTokens, tokenTimes.length);
  if (change == null || switchedAt == null || switchedAt <= 0) return [{ drafting: startedDrafting, decodedTokens: tokenTimes.length - 1, decodeMs: last - first }];
  const before: RunPhase = { drafting: startedDrafting, decodedTokens: switchedAt - 1, decodeMs: tokenTimes[switchedAt - 1]! - first };
  const after: RunPhase = { drafting: !startedDrafting, decodedTokens: tokenTimes.length - switchedAt, decodeMs: Math.max(0, last - change.at) };
  return after.decodedTokens > 0 ? [before, after] : [before];
}
