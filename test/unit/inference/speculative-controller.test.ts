import { describe, expect, test } from "bun:test";
import { createSpeculativeController, type RunStats } from "../../../src/inference/speculative-controller";

function controller(options: { busy?: () => number; adaptive?: boolean; mode?: "draft" | "lookup" | "none" } = {}) {
  return createSpeculativeController({
    mode: options.mode ?? "draft",
    adaptive: options.adaptive ?? true,
    busySequences: options.busy ?? (() => 1),
    windowTokens: 128,
    minRunTokens: 16,
    exploreEvery: 4,
    maxExploreEvery: 16,
  });
}

/** A finished run of 65 tokens decoded at `tokensPerSecond`. */
function stats(tokensPerSecond: number, extra: Partial<RunStats> = {}): RunStats {
  return { generated: 65, decodeMs: (64 / tokensPerSecond) * 1000, proposed: 60, accepted: 50, draftedWholeRun: true, ...extra };
}

/** Runs `count` requests where drafting decodes at `draftSpeed` and plain decoding at `plainSpeed`; returns the decisions. */
function serve(speculative: ReturnType<typeof controller>, count: number, draftSpeed: number, plainSpeed: number): boolean[] {
  return Array.from({ length: count }, () => {
    const run = speculative.begin();
    speculative.finish(run, stats(run.drafting ? draftSpeed : plainSpeed, { draftedWholeRun: run.drafting }));
    return run.drafting;
  });
}

describe("speculative controller", () => {
  test("Should measure both modes first - one run with the draft, one without", () => {
    expect(serve(controller(), 2, 40, 20)).toEqual([true, false]);
  });

  test("Should keep drafting while it is faster - re-measuring the plain mode ever less often", () => {
    const speculative = controller();
    const decisions = serve(speculative, 40, 40, 20);
    expect(decisions.slice(2).filter((drafted) => !drafted).length).toBeLessThanOrEqual(4);
    expect(speculative.status()).toMatchObject({ mode: "draft", active: true });
    expect(speculative.status().tokensPerSecond!.withDraft).toBeCloseTo(40);
    expect(speculative.status().tokensPerSecond!.withoutDraft).toBeCloseTo(20);
    // Each drafted run of 64 decoded tokens took 1.6 s instead of 3.2 s.
    const draftedRuns = decisions.slice(2).filter(Boolean).length;
    expect(speculative.status().timeSavedSeconds).toBeCloseTo(draftedRuns * 1.6);
  });

  test("Should stop drafting when the draft is slower - and probe it rarely, so a bad draft costs little", () => {
    const speculative = controller();
    const decisions = serve(speculative, 66, 10, 30);
    const probes = decisions.slice(2).filter(Boolean).length;
    expect(probes).toBeGreaterThan(0);
    expect(probes).toBeLessThanOrEqual(6);
    expect(speculative.status().active).toBe(false);
  });

  test("Should switch back to drafting when it becomes faster again", () => {
    const speculative = controller();
    serve(speculative, 20, 10, 30);
    const decisions = serve(speculative, 40, 60, 30);
    expect(decisions.slice(-10).filter((drafted) => !drafted).length).toBeLessThanOrEqual(1);
  });

  test("Should not let short runs judge the speed - prompt time dominates them", () => {
    const speculative = controller();
    const run = speculative.begin();
    speculative.finish(run, stats(5, { generated: 8 }));
    expect(speculative.status().tokensPerSecond).toEqual({ withDraft: null, withoutDraft: null });
  });

  test("Should not draft while other sequences generate, and stop a running draft when they start", () => {
    let busy = 2;
    const speculative = controller({ busy: () => busy });
    expect(speculative.begin().drafting).toBe(false);
    expect(speculative.status().active).toBe(false);
    busy = 1;
    expect(speculative.begin().drafting).toBe(true);
    expect(speculative.keepDrafting()).toBe(true);
    busy = 2;
    expect(speculative.keepDrafting()).toBe(false);
  });

  test("Should not count a run that overlapped another - its speed was shared", () => {
    let busy = 1;
    const speculative = controller({ busy: () => busy });
    const first = speculative.begin();
    busy = 2;
    const second = speculative.begin();
    speculative.finish(second, stats(5, { draftedWholeRun: false }));
    busy = 1;
    speculative.finish(first, stats(5));
    expect(speculative.status().tokensPerSecond).toEqual({ withDraft: null, withoutDraft: null });
  });

  test("Should not count a drafted run whose draft was stopped midway toward the draft's speed", () => {
    const speculative = controller();
    const run = speculative.begin();
    speculative.finish(run, stats(30, { draftedWholeRun: false }));
    expect(speculative.status().tokensPerSecond!.withDraft).toBeNull();
    expect(speculative.status().draftTokensAccepted).toBe(50);
  });

  test("Should follow a request's own choice - without counting it as a probe", () => {
    const speculative = controller();
    serve(speculative, 10, 10, 30);
    expect(speculative.begin("on").drafting).toBe(true);
    expect(speculative.begin("off").drafting).toBe(false);
    expect(controller({ mode: "none" }).begin("on").drafting).toBe(false);
  });

  test("Should always draft without adaptive - and still measure", () => {
    const speculative = controller({ adaptive: false, busy: () => 2 });
    const run = speculative.begin();
    expect(run.drafting).toBe(true);
    speculative.finish(run, stats(20, { generated: 65, accepted: 1 }));
    expect(speculative.keepDrafting()).toBe(true);
    expect(speculative.status().acceptance).toBeCloseTo(1 / 65);
  });

  test("Should never draft in mode none", () => {
    expect(serve(controller({ mode: "none" }), 5, 40, 20)).toEqual([false, false, false, false, false]);
  });
});
