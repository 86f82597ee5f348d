import type { SpeculativeStatus } from "./types";

export interface SpeculativeControllerOptions {
  mode: SpeculativeStatus["mode"];
  /** false: draft on every request, as configured; the controller still measures. */
  adaptive: boolean;
  /** Sequences generating right now, the caller's own included. */
  busySequences: () => number;
  /**
   * Acceptance (draft tokens used / tokens generated) below which drafting costs more than it
   * saves: each refuted token is draft work plus a wider target batch for nothing.
   */
  minAcceptance?: number;
  /** Generated tokens over which acceptance is averaged; older runs fade out by half per window. */
  windowTokens?: number;
  /** While off for low acceptance, every n-th request drafts anyway to see whether it pays again. */
  probeEvery?: number;
}

export interface RunStats {
  generated: number;
  proposed: number;
  accepted: number;
}

export interface SpeculativeController {
  /** Whether the request about to start should draft. */
  begin(): boolean;
  /**
   * Asked before each drafting step of a run that began drafting: false once other sequences
   * generate too, because then batching them uses the compute a draft would take.
   */
  keepDrafting(): boolean;
  /** Reports a finished run; only runs that drafted move the acceptance estimate. */
  finish(drafted: boolean, stats: RunStats): void;
  status(): SpeculativeStatus;
}

/**
 * Decides, per model, when speculative decoding runs. Two costs turn it off: low acceptance
 * (measured while serving) and concurrency (more than one sequence generating). It comes back
 * on when concurrency ends, and after low acceptance through periodic probe requests that
 * re-measure. Greedy output does not depend on any of this: the target validates every draft
 * token, so the controller only ever trades speed.
 */
export function createSpeculativeController(options: SpeculativeControllerOptions): SpeculativeController {
  const minAcceptance = options.minAcceptance ?? 0.4;
  const windowTokens = options.windowTokens ?? 256;
  const probeEvery = options.probeEvery ?? 8;
  let weightedGenerated = 0;
  let weightedAccepted = 0;
  let proposed = 0;
  let accepted = 0;
  let lowAcceptance = false;
  let requestsSinceProbe = 0;
  // Fewer generated tokens than this say too little to turn drafting off.
  const minSampleTokens = Math.min(windowTokens, 32);

  const acceptance = () => (weightedGenerated > 0 ? weightedAccepted / weightedGenerated : null);
  const uncontended = () => options.busySequences() <= 1;

  return {
    begin() {
      if (options.mode === "none") return false;
      if (!options.adaptive) return true;
      if (!uncontended()) return false;
      if (!lowAcceptance) return true;
      requestsSinceProbe++;
      if (requestsSinceProbe < probeEvery) return false;
      requestsSinceProbe = 0;
      return true;
    },
    keepDrafting() {
      return !options.adaptive || uncontended();
    },
    finish(drafted, stats) {
      if (!drafted || stats.generated === 0) return;
      proposed += stats.proposed;
      accepted += stats.accepted;
      const runRate = stats.accepted / stats.generated;
      if (lowAcceptance) {
        // A probe judges alone, and a good one starts the estimate afresh so old runs cannot undo it.
        lowAcceptance = runRate < minAcceptance;
        if (!lowAcceptance) {
          weightedGenerated = stats.generated;
          weightedAccepted = stats.accepted;
        }
        return;
      }
      const fade = 0.5 ** (stats.generated / windowTokens);
      weightedGenerated = weightedGenerated * fade + stats.generated;
      weightedAccepted = weightedAccepted * fade + stats.accepted;
      if (weightedGenerated >= minSampleTokens) lowAcceptance = weightedAccepted / weightedGenerated < minAcceptance;
    },
    status() {
      const active = options.mode !== "none" && (!options.adaptive || (!lowAcceptance && uncontended()));
      return { mode: options.mode, active, acceptance: acceptance(), draftTokensProposed: proposed, draftTokensAccepted: accepted };
    },
  };
}
