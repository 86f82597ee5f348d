import { describe, expect, test } from "bun:test";
import { type Token, TokenPredictor } from "node-llama-cpp";
import { AdaptiveTokenPredictor } from "../../../src/inference/adaptive-token-predictor";
import type { RunPhase } from "../../../src/inference/speculative-controller";

class RecordingPredictor extends TokenPredictor {
  calls: string[] = [];
  stateTokens: Token[] = [];
  reset(params: { stateTokens: Token[] }) {
    this.calls.push("reset");
    this.stateTokens = params.stateTokens.slice();
  }
  pushTokens() {
    this.calls.push("push");
  }
  predictTokens(): Token[] {
    this.calls.push("predict");
    return [7 as Token];
  }
  override stop() {
    this.calls.push("stop");
  }
}

/** Gives the tokens one at a time, asking for predictions after each as the target's loop does; returns each answer. */
async function generate(predictor: AdaptiveTokenPredictor, tokens: number[]): Promise<number[][]> {
  const answers: number[][] = [];
  for (const token of tokens) {
    predictor.pushTokens([token as Token]);
    answers.push(await predictor.predictTokens());
  }
  return answers;
}

const resetParams = { targetSequence: undefined as never, stateTokens: [1, 2] as Token[], evaluateOptions: {} };

describe("adaptive token predictor", () => {
  test("Should never reset, feed or ask the inner predictor while a run does not draft", () => {
    const inner = new RecordingPredictor();
    const predictor = new AdaptiveTokenPredictor(inner, () => true);
    predictor.draftThisRun({ drafting: false });
    predictor.reset(resetParams);
    predictor.pushTokens([1 as Token]);
    expect(predictor.predictTokens()).toEqual([]);
    expect(inner.calls).toEqual([]);
    expect(predictor.modeChanges).toEqual([]);
  });

  test("Should pass everything through while a run drafts", () => {
    const inner = new RecordingPredictor();
    const predictor = new AdaptiveTokenPredictor(inner, () => true);
    predictor.draftThisRun({ drafting: true });
    predictor.reset(resetParams);
    predictor.pushTokens([1 as Token]);
    expect(predictor.predictTokens()).toEqual([7 as Token]);
    expect(inner.calls).toEqual(["reset", "push", "predict"]);
    expect(predictor.modeChanges).toEqual([]);
  });

  test("Should stop drafting for the rest of the run once it should not go on", () => {
    const inner = new RecordingPredictor();
    let keep = true;
    const predictor = new AdaptiveTokenPredictor(inner, () => keep);
    predictor.draftThisRun({ drafting: true });
    predictor.pushTokens([1 as Token, 2 as Token]);
    expect(predictor.predictTokens()).toEqual([7 as Token]);
    keep = false;
    expect(predictor.predictTokens()).toEqual([]);
    keep = true;
    expect(predictor.predictTokens()).toEqual([]);
    expect(inner.calls).toEqual(["push", "predict", "stop"]);
    expect(predictor.modeChanges.map((change) => change.afterTokens)).toEqual([2]);
  });

  test("Should stop a drafted slice after its tokens - the rest of the run is plain", () => {
    const inner = new RecordingPredictor();
    const predictor = new AdaptiveTokenPredictor(inner, () => true);
    predictor.draftThisRun({ drafting: true, switchAfter: 2 });
    predictor.reset(resetParams);
    predictor.pushTokens([3 as Token]);
    expect(predictor.predictTokens()).toEqual([7 as Token]);
    predictor.pushTokens([4 as Token]);
    expect(predictor.predictTokens()).toEqual([]);
    expect(predictor.modeChanges.map((change) => change.afterTokens)).toEqual([2]);
  });

  test("Should let the draft join after a plain slice - reset to every token of the run so far", async () => {
    const inner = new RecordingPredictor();
    const predictor = new AdaptiveTokenPredictor(inner, () => true);
    predictor.draftThisRun({ drafting: false, switchAfter: 2 });
    predictor.reset(resetParams);
    predictor.pushTokens([3 as Token]);
    expect(predictor.predictTokens()).toEqual([]);
    predictor.pushTokens([4 as Token]);
    expect(await predictor.predictTokens()).toEqual([7 as Token]);
    expect(inner.stateTokens).toEqual([1, 2, 3, 4] as Token[]);
    predictor.pushTokens([5 as Token]);
    expect(inner.calls).toEqual(["reset", "predict", "push"]);
    expect(predictor.modeChanges.map((change) => change.afterTokens)).toEqual([2]);
  });

  test("Should not let the draft join while other sequences generate - it joins once they stop", async () => {
    const inner = new RecordingPredictor();
    let keep = false;
    const predictor = new AdaptiveTokenPredictor(inner, () => keep);
    predictor.draftThisRun({ drafting: false, switchAfter: 1 });
    predictor.reset(resetParams);
    predictor.pushTokens([3 as Token]);
    expect(predictor.predictTokens()).toEqual([]);
    expect(inner.calls).toEqual([]);
    keep = true;
    predictor.pushTokens([4 as Token]);
    expect(await predictor.predictTokens()).toEqual([7 as Token]);
    expect(predictor.modeChanges.map((change) => change.afterTokens)).toEqual([2]);
  });
  test("Should run a second slice without the draft, then let the draft rejoin when the slices choose it", async () => {
    const inner = new RecordingPredictor();
    const slices: RunPhase[][] = [];
    const predictor = new AdaptiveTokenPredictor(inner, () => true);
    predictor.draftThisRun({ drafting: true, switchAfter: 2, chooseRest: (seen) => slices.push([...seen]) > 0 });
    predictor.reset(resetParams);
    predictor.pushTokens([3 as Token]);
    expect(predictor.predictTokens()).toEqual([7 as Token]);
    predictor.pushTokens([4 as Token]);
    expect(predictor.predictTokens()).toEqual([]);
    predictor.pushTokens([5 as Token]);
    expect(predictor.predictTokens()).toEqual([]);
    expect(predictor.mayRunAhead()).toBe(false);
    predictor.pushTokens([6 as Token]);
    expect(await predictor.predictTokens()).toEqual([7 as Token]);
    expect(slices.map((seen) => seen.map((slice) => [slice.drafting, slice.decodedTokens]))).toEqual([[[true, 1], [false, 2]]]);
    expect(inner.stateTokens).toEqual([1, 2, 3, 4, 5, 6] as Token[]);
    expect(inner.calls).toEqual(["reset", "push", "predict", "push", "stop", "reset", "predict"]);
    expect(predictor.modeChanges.map((change) => change.afterTokens)).toEqual([2, 4]);
  });

  test("Should stay without the draft when the slices choose that - and run ahead from there", () => {
    const inner = new RecordingPredictor();
    const predictor = new AdaptiveTokenPredictor(inner, () => true);
    predictor.draftThisRun({ drafting: true, switchAfter: 1, chooseRest: () => false });
    predictor.reset(resetParams);
    predictor.pushTokens([3 as Token]);
    expect(predictor.predictTokens()).toEqual([]);
    predictor.pushTokens([4 as Token]);
    expect(predictor.predictTokens()).toEqual([]);
    expect(predictor.mayRunAhead()).toBe(true);
    expect(inner.calls).toEqual(["reset", "push", "stop"]);
    expect(predictor.modeChanges.map((change) => change.afterTokens)).toEqual([1]);
  });

  test("Should let a plain slice go first - the draft joins for the second slice and stops when the slices choose plain", async () => {
    const inner = new RecordingPredictor();
    const predictor = new AdaptiveTokenPredictor(inner, () => true);
    const slices: boolean[][] = [];
    predictor.draftThisRun({ drafting: false, switchAfter: 2, chooseRest: (seen) => (slices.push(seen.map((slice) => slice.drafting)), false) });
    predictor.reset(resetParams);
    expect(await generate(predictor, [3, 4, 5, 6])).toEqual([[], [7], [7], []]);
    expect(inner.stateTokens).toEqual([1, 2, 3, 4] as Token[]);
    expect(slices).toEqual([[false, true]]);
    expect(predictor.mayRunAhead()).toBe(true);
    expect(predictor.modeChanges.map((change) => change.afterTokens)).toEqual([2, 4]);
  });

  test("Should not choose after a draft that contention stopped - its slice measured a shared speed", () => {
    const inner = new RecordingPredictor();
    let keep = true;
    let chosen = false;
    const predictor = new AdaptiveTokenPredictor(inner, () => keep);
    predictor.draftThisRun({ drafting: true, switchAfter: 4, chooseRest: () => (chosen = true) });
    predictor.reset(resetParams);
    predictor.pushTokens([3 as Token]);
    keep = false;
    expect(predictor.predictTokens()).toEqual([]);
    keep = true;
    for (const token of [4, 5, 6, 7, 8, 9, 10] as Token[]) {
      predictor.pushTokens([token]);
      expect(predictor.predictTokens()).toEqual([]);
    }
    expect(chosen).toBe(false);
    expect(predictor.mayRunAhead()).toBe(true);
    expect(predictor.modeChanges.map((change) => change.afterTokens)).toEqual([1]);
  });

  test("Should size the draft from the target sequence before each drafting step, and never while the run does not draft", () => {
    const inner = new RecordingPredictor();
    const sized: unknown[] = [];
    const target = { tokenPredictions: { validated: 3, refuted: 0 } } as never;
    const predictor = new AdaptiveTokenPredictor(inner, () => true, (sequence) => sized.push(sequence));
    predictor.draftThisRun({ drafting: false });
    predictor.reset({ ...resetParams, targetSequence: target });
    predictor.predictTokens();
    expect(sized).toEqual([]);
    predictor.draftThisRun({ drafting: true });
    predictor.reset({ ...resetParams, targetSequence: target });
    predictor.predictTokens();
    predictor.predictTokens();
    expect(sized).toEqual([target, target]);
  });
});
