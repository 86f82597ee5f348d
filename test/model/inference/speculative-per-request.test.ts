import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Llama } from "node-llama-cpp";
import { expectedGreedyText } from "../../../src/forge";
import { createLlamaEngine } from "../../../src/inference/llama-engine";
import { collect, forgeTinyPairs, modelConfig, sharedLlama, textRequest } from "./tiny-pair";

const silent = { debug() {}, info() {}, warn() {}, error() {} };
let forged: Awaited<ReturnType<typeof forgeTinyPairs>>;
let llama: Llama;

beforeAll(async () => {
  forged = await forgeTinyPairs([0]);
  llama = await sharedLlama();
});

afterAll(async () => {
  await llama?.dispose();
  forged?.[Symbol.dispose]();
});

describe("a request that sets speculative decoding itself (X-Enclave-Speculative)", () => {
  test("Should generate without the draft - same greedy text, no draft tokens proposed, the controller's estimate untouched", async () => {
    const pair = forged.pairs.get(0)!;
    const draft = { path: pair.draft, min_tokens: 1, max_tokens: 8, min_confidence: 0, threads: 1, adaptive: false };
    await using engine = createLlamaEngine({
      config: { engine: { gpu: "cpu", max_threads: 2 }, models: [modelConfig({ id: "drafted", path: pair.target, default: true, speculative: "draft", draft })] },
      logger: silent,
      loadLlama: async () => llama,
    });
    const sampling = { ...textRequest("", "").sampling, maxTokens: 40 };
    const status = () => engine.models()[0]!.speculative;

    const off = await collect(await engine.generate(textRequest("drafted", "abc", { sampling, speculative: "off" })));
    expect(off.text).toBe(expectedGreedyText("abc", 40, pair.options));
    expect(off.done!.usage.draftTokensAccepted).toBeUndefined();
    expect(status()).toMatchObject({ mode: "draft", draftTokensProposed: 0, draftTokensAccepted: 0, acceptance: null });

    const on = await collect(await engine.generate(textRequest("drafted", "abc", { sampling })));
    expect(on.text).toBe(off.text);
    expect(on.done!.usage.draftTokensAccepted).toBeGreaterThan(0);
    expect(status().draftTokensProposed).toBeGreaterThan(0);
  });

  test("Should draft a request marked on for its whole run - where adaptive drafting, still measuring, drafts only its slice", async () => {
    const pair = forged.pairs.get(0)!;
    const draft = { path: pair.draft, min_tokens: 1, max_tokens: 8, min_confidence: 0, threads: 1, adaptive: true };
    await using engine = createLlamaEngine({
      config: { engine: { gpu: "cpu", max_threads: 2 }, models: [modelConfig({ id: "drafted", path: pair.target, default: true, speculative: "draft", draft })] },
      logger: silent,
      loadLlama: async () => llama,
      // A measuring slice of 8 tokens (too short to count, so the next request measures again).
      speculative: { sliceTokens: 8 },
    });
    const sampling = { ...textRequest("", "").sampling, maxTokens: 40 };
    const sliced = await collect(await engine.generate(textRequest("drafted", "abc", { sampling })));
    expect(sliced.done!.usage.draftTokensAccepted ?? 0).toBeLessThanOrEqual(8);
    const forced = await collect(await engine.generate(textRequest("drafted", "abc", { sampling, speculative: "on" })));
    expect(forced.done!.usage.draftTokensAccepted).toBeGreaterThan(16);
    expect(forced.text).toBe(sliced.text);
  });

  test("Should measure both modes on the first request - its slice with the draft, its rest without it", async () => {
    const pair = forged.pairs.get(0)!;
    const draft = { path: pair.draft, min_tokens: 1, max_tokens: 8, min_confidence: 0, threads: 1, adaptive: true };
    await using engine = createLlamaEngine({
      config: { engine: { gpu: "cpu", max_threads: 2 }, models: [modelConfig({ id: "drafted", path: pair.target, default: true, speculative: "draft", draft })] },
      logger: silent,
      loadLlama: async () => llama,
      speculative: { sliceTokens: 24, minRunTokens: 8 },
    });
    const sampling = { ...textRequest("", "").sampling, maxTokens: 80 };
    const first = await collect(await engine.generate(textRequest("drafted", "abc", { sampling })));
    expect(first.text).toBe(expectedGreedyText("abc", 80, pair.options));
    expect(first.done!.usage.draftTokensAccepted).toBeGreaterThan(0);
    const speed = engine.models()[0]!.speculative.tokensPerSecond!;
    expect(speed.withDraft).toBeGreaterThan(0);
    expect(speed.withoutDraft).toBeGreaterThan(0);
  });
});
