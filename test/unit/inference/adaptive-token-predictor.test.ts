import { describe, expect, test } from "bun:test";
import { type Token, TokenPredictor } from "node-llama-cpp";
import { AdaptiveTokenPredictor } from "../../../src/inference/adaptive-token-predictor";

class RecordingPredictor extends TokenPredictor {
  calls: string[] = [];
  reset() {
    this.calls.push("reset");
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

const resetParams = { targetSequence: undefined as never, stateTokens: [], evaluateOptions: {} };

describe("adaptive token predictor", () => {
  test("while a run does not draft, the inner predictor is never reset, fed or asked", () => {
    const inner = new RecordingPredictor();
    const predictor = new AdaptiveTokenPredictor(inner, () => true);
    predictor.draftThisRun(false);
    predictor.reset(resetParams);
    predictor.pushTokens([1 as Token]);
    expect(predictor.predictTokens()).toEqual([]);
    expect(inner.calls).toEqual([]);
    expect(predictor.draftedWholeRun).toBe(false);
  });

  test("a drafting run passes everything through", () => {
    const inner = new RecordingPredictor();
    const predictor = new AdaptiveTokenPredictor(inner, () => true);
    predictor.draftThisRun(true);
    predictor.reset(resetParams);
    predictor.pushTokens([1 as Token]);
    expect(predictor.predictTokens()).toEqual([7 as Token]);
    expect(inner.calls).toEqual(["reset", "push", "predict"]);
    expect(predictor.draftedWholeRun).toBe(true);
  });

  test("drafting stops for the rest of the run once it should not go on", () => {
    const inner = new RecordingPredictor();
    let keep = true;
    const predictor = new AdaptiveTokenPredictor(inner, () => keep);
    predictor.draftThisRun(true);
    expect(predictor.predictTokens()).toEqual([7 as Token]);
    keep = false;
    expect(predictor.predictTokens()).toEqual([]);
    keep = true;
    expect(predictor.predictTokens()).toEqual([]);
    expect(inner.calls).toEqual(["predict", "stop"]);
    expect(predictor.draftedWholeRun).toBe(false);
  });
});
