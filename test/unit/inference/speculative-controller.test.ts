import { describe, expect, test } from "bun:test";
import { createSpeculativeController } from "../../../src/inference/speculative-controller";

function controller(options: { busy?: () => number; adaptive?: boolean; mode?: "draft" | "lookup" | "none" } = {}) {
  return createSpeculativeController({
    mode: options.mode ?? "draft",
    adaptive: options.adaptive ?? true,
    busySequences: options.busy ?? (() => 1),
    minAcceptance: 0.4,
    windowTokens: 128,
    probeEvery: 4,
  });
}

describe("speculative controller", () => {
  test("drafts while acceptance is high", () => {
    const speculative = controller();
    for (let run = 0; run < 5; run++) {
      expect(speculative.begin()).toBe(true);
      speculative.finish(true, { generated: 64, proposed: 60, accepted: 50 });
    }
    expect(speculative.status()).toMatchObject({ mode: "draft", active: true, draftTokensProposed: 300, draftTokensAccepted: 250 });
    expect(speculative.status().acceptance).toBeCloseTo(50 / 64);
  });

  test("switches off after low acceptance and probes again every n-th request", () => {
    const speculative = controller();
    speculative.begin();
    speculative.finish(true, { generated: 64, proposed: 64, accepted: 6 });
    expect(speculative.status().active).toBe(false);
    const decisions = Array.from({ length: 8 }, () => {
      const drafted = speculative.begin();
      if (drafted) speculative.finish(true, { generated: 64, proposed: 64, accepted: 6 });
      return drafted;
    });
    expect(decisions).toEqual([false, false, false, true, false, false, false, true]);
  });

  test("a probe with good acceptance turns drafting back on", () => {
    const speculative = controller();
    speculative.finish(true, { generated: 64, proposed: 64, accepted: 6 });
    for (let request = 0; request < 3; request++) expect(speculative.begin()).toBe(false);
    expect(speculative.begin()).toBe(true);
    speculative.finish(true, { generated: 64, proposed: 64, accepted: 48 });
    expect(speculative.status().active).toBe(true);
    expect(speculative.begin()).toBe(true);
  });

  test("too few tokens do not judge the draft", () => {
    const speculative = controller();
    speculative.finish(true, { generated: 8, proposed: 8, accepted: 0 });
    expect(speculative.status().active).toBe(true);
  });

  test("does not draft while other sequences generate, and stops a running draft when they start", () => {
    let busy = 2;
    const speculative = controller({ busy: () => busy });
    expect(speculative.begin()).toBe(false);
    expect(speculative.status().active).toBe(false);
    busy = 1;
    expect(speculative.begin()).toBe(true);
    expect(speculative.keepDrafting()).toBe(true);
    busy = 2;
    expect(speculative.keepDrafting()).toBe(false);
  });

  test("runs that did not draft leave acceptance alone", () => {
    const speculative = controller();
    speculative.finish(false, { generated: 500, proposed: 0, accepted: 0 });
    expect(speculative.status().acceptance).toBeNull();
    expect(speculative.status().active).toBe(true);
  });

  test("without adaptive it always drafts but still measures", () => {
    const speculative = controller({ adaptive: false, busy: () => 2 });
    speculative.finish(true, { generated: 64, proposed: 64, accepted: 1 });
    expect(speculative.begin()).toBe(true);
    expect(speculative.keepDrafting()).toBe(true);
    expect(speculative.status().acceptance).toBeCloseTo(1 / 64);
  });

  test("mode none never drafts", () => {
    const speculative = controller({ mode: "none" });
    expect(speculative.begin()).toBe(false);
    expect(speculative.status().active).toBe(false);
  });
});
