import { describe, expect, test } from "bun:test";
import { createSpeculativeController, type RunPhase, type RunStats, type SpeculativeRun } from "../../../src/inference/speculative-controller";

const SLICE = 32;

function controller(options: { busy?: () => number; adaptive?: boolean; mode?: "draft" | "lookup" | "none" } = {}) {
  return createSpeculativeController({
    mode: options.mode ?? "draft",
    adaptive: options.adaptive ?? true,
    busySequences: options.busy ?? (() => 1),
    windowTokens: 128,
    minRunTokens: 16,
    sliceTokens: SLICE,
    exploreEvery: 4,
    maxExploreEvery: 16,
  });
}

function phase(drafting: boolean, decodedTokens: number, tokensPerSecond: number): RunPhase {
  return { drafting, decodedTokens, decodeMs: (decodedTokens / tokensPerSecond) * 1000 };
}

/**
 * A run of `generated` tokens (one fewer decoded: the first is the prompt's), sliced as the
 * controller decided, at the given speeds: with `chooseRest`, a second slice in the other mode,
 * then the rest in the mode the slices chose.
 */
function stats(run: SpeculativeRun, draftSpeed: number, plainSpeed: number, extra: Partial<RunStats> = {}, generated = 97): RunStats {
  const speed = (drafting: boolean) => (drafting ? draftSpeed : plainSpeed);
  const slice = run.switchAfter;
  const phases = [phase(run.drafting, (slice == null ? generated : Math.min(slice, generated)) - 1, speed(run.drafting))];
  if (slice != null && generated > slice) {
    const rest = phase(!run.drafting, generated - slice, speed(!run.drafting));
    const second = phase(!run.drafting, slice, speed(!run.drafting));
    const restDrafts = run.chooseRest != null && generated > 2 * slice ? run.chooseRest([phases[0]!, second]) : !run.drafting;
    phases.push(...(restDrafts === run.drafting ? [second, phase(restDrafts, generated - 2 * slice, speed(restDrafts))] : [rest]));
  }
  return { phases, proposed: 60, accepted: 50, ...extra };
}

/** Serves `count` requests of `generated` tokens; returns each request's decoded tokens spent drafting and spent plain. */
function serve(speculative: ReturnType<typeof controller>, count: number, draftSpeed: number, plainSpeed: number, generated = 97) {
  return Array.from({ length: count }, () => {
    const run = speculative.begin();
    const done = stats(run, draftSpeed, plainSpeed, {}, generated);
    speculative.finish(run, done);
    const tokens = (drafting: boolean) => done.phases.filter((p) => p.drafting === drafting).reduce((sum, p) => sum + p.decodedTokens, 0);
    return { run, drafted: tokens(true), plain: tokens(false) };
  });
}

describe("speculative controller", () => {
  test("Should measure both modes on the first request - a drafted slice, a plain one, then the faster for the rest", () => {
    const speculative = controller();
    const [first, second] = serve(speculative, 2, 40, 20);
    expect(first!.run).toEqual(expect.objectContaining({ drafting: true, switchAfter: SLICE }));
    expect(first!.plain).toBe(SLICE);
    expect(speculative.status().tokensPerSecond).toEqual({ withDraft: expect.closeTo(40), withoutDraft: expect.closeTo(20) });
    expect(second!.run.drafting).toBe(true);
    expect(second!.run.switchAfter).toBeUndefined();
    expect(second!.run.chooseRest).toBeUndefined();
  });

  test("Should let the first request's slices choose its rest - the draft only when clearly faster, never on a slice too short to judge", () => {
    const { chooseRest } = controller().begin();
    expect(chooseRest!([phase(true, SLICE - 1, 44), phase(false, SLICE, 40)])).toBe(true);
    expect(chooseRest!([phase(true, SLICE - 1, 41), phase(false, SLICE, 40)])).toBe(false);
    expect(chooseRest!([phase(true, SLICE - 1, 10), phase(false, SLICE, 40)])).toBe(false);
    expect(chooseRest!([phase(true, SLICE - 1, 80), phase(false, 4, 40)])).toBe(false);
    expect(chooseRest!([phase(true, SLICE - 1, 80)])).toBe(false);
  });

  test("Should learn from replies too short for both slices - a drafted one, then a plain one, then the faster", () => {
    const speculative = controller();
    const served = serve(speculative, 24, 10, 30, SLICE + 5);
    expect(served.slice(0, 2).map((s) => s.run.drafting)).toEqual([true, false]);
    expect(speculative.status().tokensPerSecond).toEqual({ withDraft: expect.closeTo(10), withoutDraft: expect.closeTo(30) });
    // Only the rare re-measuring requests draft after the first.
    expect(served.slice(1).filter((s) => s.drafted > 0).length).toBeLessThanOrEqual(3);
    expect(speculative.status().active).toBe(false);
  });

  test("Should pool replies shorter than a measurement until together they are long enough", () => {
    const speculative = controller();
    serve(speculative, 6, 40, 20, 9);
    expect(speculative.status().tokensPerSecond).toEqual({ withDraft: expect.closeTo(40), withoutDraft: expect.closeTo(20) });
    expect(speculative.begin().drafting).toBe(true);
  });

  test("Should cost a losing draft its first slice alone - the first request's rest runs plain", () => {
    const [first] = serve(controller(), 1, 10, 30);
    expect(first!.drafted).toBe(SLICE - 1);
  });

  test("Should keep drafting while it is faster - re-measuring the plain mode on slices, ever less often", () => {
    const speculative = controller();
    const served = serve(speculative, 40, 40, 20);
    const plain = served.slice(1).reduce((sum, s) => sum + s.plain, 0);
    const all = served.slice(1).reduce((sum, s) => sum + s.plain + s.drafted, 0);
    // Whole plain requests would cost a quarter of the tokens at exploreEvery 4; slices cost a few percent.
    expect(plain / all).toBeLessThan(0.05);
    expect(speculative.status()).toMatchObject({ mode: "draft", active: true });
    expect(speculative.status().tokensPerSecond!.withDraft).toBeCloseTo(40);
    expect(speculative.status().tokensPerSecond!.withoutDraft).toBeCloseTo(20);
  });

  test("Should count the time a drafted stretch saved against the plain speed", () => {
    const speculative = controller();
    serve(speculative, 1, 40, 20);
    const before = speculative.status().timeSavedSeconds!;
    serve(speculative, 1, 40, 20);
    // 96 tokens at 40/s instead of 20/s: 2.4 s instead of 4.8 s.
    expect(speculative.status().timeSavedSeconds! - before).toBeCloseTo(2.4);
  });

  test("Should stop drafting when the draft is slower - and probe it on rare slices, so a bad draft costs little", () => {
    const speculative = controller();
    const served = serve(speculative, 66, 10, 30);
    const drafted = served.slice(1).reduce((sum, s) => sum + s.drafted, 0);
    const all = served.slice(1).reduce((sum, s) => sum + s.plain + s.drafted, 0);
    expect(drafted).toBeGreaterThan(0);
    expect(drafted / all).toBeLessThan(0.03);
    expect(speculative.status().active).toBe(false);
  });

  test("Should switch back to drafting when it becomes faster again", () => {
    const speculative = controller();
    serve(speculative, 20, 10, 30);
    const served = serve(speculative, 40, 60, 30);
    expect(served.slice(-10).filter((s) => !s.run.drafting).length).toBeLessThanOrEqual(1);
  });

  test("Should not let short stretches judge the speed - prompt time dominates them", () => {
    const speculative = controller();
    const run = speculative.begin();
    speculative.finish(run, { phases: [phase(false, 7, 5)], proposed: 0, accepted: 0 });
    expect(speculative.status().tokensPerSecond).toEqual({ withDraft: null, withoutDraft: null });
    expect(speculative.begin().switchAfter).toBe(SLICE);
  });

  test("Should not slice or measure a run that is not measurable - it runs the winner whole", () => {
    const speculative = controller();
    serve(speculative, 3, 10, 30);
    const run = speculative.begin(undefined, false);
    expect(run).toEqual(expect.objectContaining({ drafting: false, switchAfter: undefined }));
    speculative.finish(run, { phases: [phase(false, 96, 1)], proposed: 0, accepted: 0 });
    expect(speculative.status().tokensPerSecond!.withoutDraft).toBeCloseTo(30);
  });

  test("Should not draft while other sequences generate, and stop a running draft when they start", () => {
    let busy = 2;
    const speculative = controller({ busy: () => busy });
    expect(speculative.begin().drafting).toBe(false);
    expect(speculative.status().active).toBe(false);
    busy = 1;
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
    speculative.finish(second, stats(second, 5, 5));
    busy = 1;
    speculative.finish(first, stats(first, 5, 5));
    expect(speculative.status().tokensPerSecond).toEqual({ withDraft: null, withoutDraft: null });
  });

  test("Should count acceptance over the drafted tokens only", () => {
    const speculative = controller();
    const run = speculative.begin();
    speculative.finish(run, { phases: [phase(false, 31, 20), phase(true, 64, 40)], proposed: 40, accepted: 32 });
    expect(speculative.status().acceptance).toBeCloseTo(0.5);
    expect(speculative.status().draftTokensAccepted).toBe(32);
  });

  test("Should not draft a draft that is barely faster - within 5% it is noise a slice can measure either way", () => {
    const speculative = controller();
    serve(speculative, 3, 41, 40);
    expect(speculative.begin().drafting).toBe(false);
    const clear = controller();
    serve(clear, 3, 44, 40);
    expect(clear.begin().drafting).toBe(true);
  });

  test("Should follow a request's own choice - without counting it as a probe", () => {
    const speculative = controller();
    serve(speculative, 10, 10, 30);
    expect(speculative.begin("on")).toEqual(expect.objectContaining({ drafting: true, switchAfter: undefined }));
    expect(speculative.begin("off").drafting).toBe(false);
    expect(controller({ mode: "none" }).begin("on").drafting).toBe(false);
  });

  test("Should always draft without adaptive - and still measure", () => {
    const speculative = controller({ adaptive: false, busy: () => 2 });
    const run = speculative.begin();
    expect(run).toEqual(expect.objectContaining({ drafting: true, switchAfter: undefined }));
    speculative.finish(run, { phases: [phase(true, 64, 20)], proposed: 10, accepted: 1 });
    expect(speculative.keepDrafting()).toBe(true);
    expect(speculative.status().acceptance).toBeCloseTo(1 / 64);
  });

  test("Should never draft in mode none", () => {
    expect(serve(controller({ mode: "none" }), 5, 40, 20).map((s) => s.run.drafting)).toEqual([false, false, false, false, false]);
  });
});
