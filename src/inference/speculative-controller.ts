import type { SpeculativeStatus } from "./types";

export interface SpeculativeControllerOptions {
  mode: SpeculativeStatus["mode"];
  /** false: draft on every request, as configured; the controller still measures. */
  adaptive: boolean;
  /** Sequences generating right now, the caller's own included. */
  busySequences: () => number;
  /** Generated tokens over which speeds and acceptance are averaged; older runs fade out by half per window. */
  windowTokens?: number;
  /** Runs shorter than this (in generated tokens) say too little about decode speed to count. */
  minRunTokens?: number;
  /** The losing mode is re-measured after this many requests at first; the interval doubles while it keeps losing. */
  exploreEvery?: number;
  /** The longest interval between re-measurements of the losing mode. */
  maxExploreEvery?: number;
}

export interface RunStats {
  generated: number;
  /** Wall time from the first generated token to the last: decode only, without the prompt. */
  decodeMs: number;
  proposed: number;
  accepted: number;
  /** The run drafted from its first token to its last (adaptive drafting can stop a run's draft midway). */
  draftedWholeRun: boolean;
}

/** One generation as the controller decided it. */
export interface SpeculativeRun {
  readonly drafting: boolean;
}

export interface SpeculativeController {
  /** Decides whether the request about to start drafts; `choice` is a request that decided for itself. */
  begin(choice?: "on" | "off"): SpeculativeRun;
  /**
   * Asked before each drafting step of a run that began drafting: false once other sequences
   * generate too, because then batching them uses the compute a draft would take.
   */
  keepDrafting(): boolean;
  finish(run: SpeculativeRun, stats: RunStats): void;
  status(): SpeculativeStatus;
}

interface RunState extends SpeculativeRun {
  contended: boolean;
  epoch: number;
}

/** Tokens per second, averaged over a window of recent tokens. */
function createRateEstimate(windowTokens: number) {
  let tokens = 0;
  let ms = 0;
  return {
    add(generated: number, decodeMs: number) {
      const fade = 0.5 ** (generated / windowTokens);
      tokens = tokens * fade + generated;
      ms = ms * fade + decodeMs;
    },
    reset() {
      tokens = 0;
      ms = 0;
    },
    get perSecond(): number | null {
      return ms > 0 ? (tokens / ms) * 1000 : null;
    },
  };
}

/**
 * Decides, per model, when speculative decoding runs, by the one measure that matters: decode
 * speed. It keeps a running tokens/s for uncontended runs with and without the draft, drafts
 * when drafting is faster, and now and then re-measures the losing mode (less often the longer
 * it keeps losing, so a bad draft costs little). Concurrency also turns drafting off: with
 * several sequences generating, batching them uses the compute a draft would take. Greedy output
 * does not depend on any of this: the target validates every draft token, so the controller
 * only ever trades speed.
 */
export function createSpeculativeController(options: SpeculativeControllerOptions): SpeculativeController {
  const windowTokens = options.windowTokens ?? 256;
  const minRunTokens = options.minRunTokens ?? 16;
  const firstExploreEvery = options.exploreEvery ?? 8;
  const maxExploreEvery = options.maxExploreEvery ?? 128;
  const drafted = createRateEstimate(windowTokens);
  const plain = createRateEstimate(windowTokens);
  let weightedGenerated = 0;
  let weightedAccepted = 0;
  let proposed = 0;
  let accepted = 0;
  let savedSeconds = 0;
  let exploreEvery = firstExploreEvery;
  let sinceExplore = 0;
  // Bumped whenever a run starts beside another, so runs that overlapped it know their speed was shared.
  let contentionEpoch = 0;

  const uncontended = () => options.busySequences() <= 1;
  const draftIsFaster = () => {
    const withDraft = drafted.perSecond;
    const without = plain.perSecond;
    return withDraft == null || without == null || withDraft >= without;
  };
  const decide = (): boolean => {
    if (drafted.perSecond == null) return true;
    if (plain.perSecond == null) return false;
    const best = draftIsFaster();
    if (++sinceExplore < exploreEvery) return best;
    sinceExplore = 0;
    return !best;
  };

  return {
    begin(choice) {
      const contended = !uncontended();
      if (contended) contentionEpoch++;
      const run = (drafting: boolean): RunState => ({ drafting, contended, epoch: contentionEpoch });
      if (options.mode === "none" || choice === "off") return run(false);
      if (choice === "on" || !options.adaptive) return run(true);
      if (contended) return run(false);
      return run(decide());
    },
    keepDrafting() {
      return !options.adaptive || uncontended();
    },
    finish(started, stats) {
      const run = started as RunState;
      if (run.drafting && stats.generated > 0) {
        proposed += stats.proposed;
        accepted += stats.accepted;
        const fade = 0.5 ** (stats.generated / windowTokens);
        weightedGenerated = weightedGenerated * fade + stats.generated;
        weightedAccepted = weightedAccepted * fade + stats.accepted;
      }
      const sharedSpeed = run.contended || run.epoch !== contentionEpoch || !uncontended();
      if (sharedSpeed || stats.generated < minRunTokens || stats.decodeMs <= 0) return;
      if (run.drafting && !stats.draftedWholeRun) return;
      const withoutDraft = plain.perSecond;
      // What this drafted run saved against the current no-draft speed (negative when drafting cost time).
      if (run.drafting && withoutDraft != null) savedSeconds += (stats.generated - 1) / withoutDraft - stats.decodeMs / 1000;
      const bestBefore = draftIsFaster();
      const estimate = run.drafting ? drafted : plain;
      const reMeasuredLoser = drafted.perSecond != null && plain.perSecond != null && run.drafting !== bestBefore;
      // The losing mode's estimate is old by the time it is re-measured: the new measurement replaces it.
      if (reMeasuredLoser) estimate.reset();
      estimate.add(stats.generated - 1, stats.decodeMs);
      // A loser re-measured and still losing is checked less often; a change of winner starts over.
      if (reMeasuredLoser) exploreEvery = draftIsFaster() === bestBefore ? Math.min(exploreEvery * 2, maxExploreEvery) : firstExploreEvery;
    },
    status() {
      const active = options.mode !== "none" && (!options.adaptive || (draftIsFaster() && uncontended()));
      return {
        mode: options.mode,
        active,
        acceptance: weightedGenerated > 0 ? weightedAccepted / weightedGenerated : null,
        draftTokensProposed: proposed,
        draftTokensAccepted: accepted,
        tokensPerSecond: { withDraft: drafted.perSecond, withoutDraft: plain.perSecond },
        timeSavedSeconds: savedSeconds,
      };
    },
  };
}
