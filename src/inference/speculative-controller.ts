import type { SpeculativeStatus } from "./types";

export interface SpeculativeControllerOptions {
  mode: SpeculativeStatus["mode"];
  /** false: draft on every request, as configured; the controller still measures. */
  adaptive: boolean;
  /** Sequences generating right now, the caller's own included. */
  busySequences: () => number;
  /** Generated tokens over which speeds and acceptance are averaged; older runs fade out by half per window. */
  windowTokens?: number;
  /**
   * Runs (or parts of a run) shorter than this, in decoded tokens, say too little about decode speed
   * to count alone: they are pooled, per mode, until they are this long together.
   */
  minRunTokens?: number;
  /** Tokens at the start of a request spent in the losing mode to re-measure it; the rest of the request runs the winner. */
  sliceTokens?: number;
  /** The losing mode is re-measured after this many requests at first; the interval doubles while it keeps losing. */
  exploreEvery?: number;
  /** The longest interval between re-measurements of the losing mode. */
  maxExploreEvery?: number;
}

/** A stretch of one run decoded in one mode. */
export interface RunPhase {
  drafting: boolean;
  /** Tokens decoded after the phase's first one: the prompt's time stays out of the speed. */
  decodedTokens: number;
  decodeMs: number;
}

export interface RunStats {
  /** In order; more than one when the run changed mode (a measuring slice, or a draft stopped by contention). */
  phases: RunPhase[];
  proposed: number;
  accepted: number;
}

/** One generation as the controller decided it. */
export interface SpeculativeRun {
  /** The mode the run starts in. */
  readonly drafting: boolean;
  /** After this many generated tokens the run changes to the other mode: a slice that re-measures the losing mode. */
  readonly switchAfter?: number;
  /**
   * Set on a run that measures both modes: after a second slice, as long as the first, in the
   * other mode, this picks the mode of the rest of the run (true: drafting) from the two slices.
   */
  readonly chooseRest?: (slices: readonly RunPhase[]) => boolean;
}

export interface SpeculativeController {
  /**
   * Decides whether the request about to start drafts; `choice` is a request that decided for
   * itself. `measurable: false` (a grammar-constrained run, whose sampling is slower and whose
   * draft cannot join midway) runs the current winner whole and is not measured.
   */
  begin(choice?: "on" | "off", measurable?: boolean): SpeculativeRun;
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
  measured: boolean;
  /** The run re-measures the losing mode in its slice. */
  exploring: boolean;
}

/**
 * How much faster drafting must measure to run. Near break-even a short slice's measurement errs
 * either way, and the loser is re-measured ever less often: a draft chosen on a lucky slice would
 * cost its error on every request until then, while leaving a marginal one unused costs little.
 */
const DRAFT_MARGIN = 1.05;

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
 * it keeps losing, so a bad draft costs little) on a short slice at the start of a request whose
 * rest runs the winner; before both speeds are known, a request measures both on two slices,
 * drafted and plain, and runs its rest in the faster mode (short replies measure a mode each, and
 * replies too short to measure alone are pooled). Concurrency also turns drafting off: with
 * several sequences generating, batching them uses the compute a draft would take. Greedy output
 * does not depend on any of this: the target validates every draft token, so the controller
 * only ever trades speed.
 */
export function createSpeculativeController(options: SpeculativeControllerOptions): SpeculativeController {
  const windowTokens = options.windowTokens ?? 256;
  const minRunTokens = options.minRunTokens ?? 16;
  // A slice's decoded tokens (one fewer: its first comes from the prompt) must reach minRunTokens to count.
  const sliceTokens = options.sliceTokens ?? 24;
  const firstExploreEvery = options.exploreEvery ?? 16;
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
    return withDraft == null || without == null || withDraft >= without * DRAFT_MARGIN;
  };
  const fasterInSlices = (slices: readonly RunPhase[]) => {
    const speed = (drafting: boolean) => {
      const slice = slices.find((phase) => phase.drafting === drafting);
      return slice == null || slice.decodedTokens < minRunTokens || slice.decodeMs <= 0 ? null : slice.decodedTokens / slice.decodeMs;
    };
    const withDraft = speed(true);
    const without = speed(false);
    return withDraft != null && without != null && withDraft >= without * DRAFT_MARGIN;
  };
  // Short phases of each mode (drafting: 1), pooled until together they reach minRunTokens.
  const shortPhases = [false, true].map((drafting): RunPhase => ({ drafting, decodedTokens: 0, decodeMs: 0 }));
  const longEnough = (phase: RunPhase): RunPhase | undefined => {
    if (phase.decodedTokens >= minRunTokens) return phase;
    const pool = shortPhases[Number(phase.drafting)]!;
    pool.decodedTokens += phase.decodedTokens;
    pool.decodeMs += phase.decodeMs;
    if (pool.decodedTokens < minRunTokens) return undefined;
    const pooled = { ...pool };
    pool.decodedTokens = 0;
    pool.decodeMs = 0;
    return pooled;
  };
  const measuring = () => drafted.perSecond == null || plain.perSecond == null;

  return {
    begin(choice, measurable = true) {
      const contended = !uncontended();
      if (contended) contentionEpoch++;
      const run = (drafting: boolean, switchAfter?: number): RunState => ({ drafting, switchAfter, contended, epoch: contentionEpoch, measured: measurable, exploring: switchAfter != null });
      if (options.mode === "none" || choice === "off") return run(false);
      if (choice === "on" || !options.adaptive) return run(true);
      if (contended) return run(false);
      if (!measurable) return run(draftIsFaster());
      // The draft goes first, then as long a slice without it, and the rest of the request runs the
      // faster: a losing draft (at high disagreement it runs at half the plain speed) costs its slice
      // alone, and a winning one costs one plain slice. Replies too short for both slices measure
      // one mode each: once the draft's speed is known, the plain slice goes first.
      if (measuring()) return { ...run(drafted.perSecond == null, sliceTokens), chooseRest: fasterInSlices };
      const best = draftIsFaster();
      if (++sinceExplore < exploreEvery) return run(best);
      sinceExplore = 0;
      return run(!best, sliceTokens);
    },
    keepDrafting() {
      return !options.adaptive || uncontended();
    },
    finish(started, stats) {
      const run = started as RunState;
      const draftedTokens = stats.phases.reduce((sum, phase) => sum + (phase.drafting ? phase.decodedTokens : 0), 0);
      if (stats.phases.some((phase) => phase.drafting)) {
        proposed += stats.proposed;
        accepted += stats.accepted;
        // The run's first token comes from the prompt, never from a draft: acceptance is over decoded tokens.
        const fade = 0.5 ** (draftedTokens / windowTokens);
        weightedGenerated = weightedGenerated * fade + draftedTokens;
        weightedAccepted = weightedAccepted * fade + stats.accepted;
      }
      const sharedSpeed = run.contended || run.epoch !== contentionEpoch || !uncontended();
      if (sharedSpeed || !run.measured) return;
      const wasMeasuring = measuring();
      const bestBefore = draftIsFaster();
      for (const phase of stats.phases.map(longEnough)) {
        if (phase == null || phase.decodeMs <= 0) continue;
        const withoutDraft = plain.perSecond;
        // What this drafted stretch saved against the current no-draft speed (negative when drafting cost time).
        if (phase.drafting && withoutDraft != null) savedSeconds += phase.decodedTokens / withoutDraft - phase.decodeMs / 1000;
        const estimate = phase.drafting ? drafted : plain;
        // The losing mode's estimate is old by the time its slice re-measures it: the new measurement replaces it.
        if (run.exploring && !wasMeasuring && phase.drafting !== bestBefore) estimate.reset();
        estimate.add(phase.decodedTokens, phase.decodeMs);
      }
      // A loser re-measured and still losing is checked less often; a change of winner starts over.
      if (run.exploring && !wasMeasuring && !measuring()) exploreEvery = draftIsFaster() === bestBefore ? Math.min(exploreEvery * 2, maxExploreEvery) : firstExploreEvery;
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
