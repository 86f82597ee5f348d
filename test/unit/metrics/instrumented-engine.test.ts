import { describe, expect, test } from "bun:test";
import { createFakeEngine, type FakeEngineOptions } from "../../../src/inference/fake-engine";
import type { GenerationRequest } from "../../../src/inference/types";
import { createInstrumentedEngine, type EngineObserver, type GenerationRecord } from "../../../src/metrics/instrumented-engine";
import { generationRequest } from "../../support/generation-request";

function recorder() {
  const calls: { started: string[]; rejected: [string, string][]; admitted: string[]; finished: GenerationRecord[]; embedded: [string, number][]; loaded: string[] } = {
    started: [],
    rejected: [],
    admitted: [],
    finished: [],
    embedded: [],
    loaded: [],
  };
  const observer: EngineObserver = {
    started: (model) => void calls.started.push(model),
    rejected: (model, _kind, code) => void calls.rejected.push([model, code]),
    admitted: (model) => void calls.admitted.push(model),
    finished: (record) => void calls.finished.push(record),
    embedded: (model, record) => void calls.embedded.push([model, record.promptTokens]),
    loaded: (model) => void calls.loaded.push(model),
  };
  return { observer, calls };
}

function generation(overrides: Parameters<typeof generationRequest>[0] = {}): GenerationRequest {
  return generationRequest({ requestId: "r1", input: { kind: "text", prompt: "count 1 2 3" }, sampling: { maxTokens: 4 }, ...overrides });
}

function setup(fake: FakeEngineOptions = {}) {
  const { observer, calls } = recorder();
  const engine = createInstrumentedEngine(createFakeEngine(fake), observer);
  return { engine, calls };
}

describe("instrumented engine", () => {
  test("Should report a completed generation with its tokens, TTFT and decode time - and pass every event through unchanged", async () => {
    const { engine, calls } = setup({ tokenDelayMs: 5 });
    await engine.start();
    expect(calls.loaded).toEqual(["fake"]);
    const events = [];
    for await (const event of await engine.generate(generation())) events.push(event);
    expect(events.map((event) => (event.type === "text" ? event.text : event.type))).toEqual([" 4", " 5", " 6", " 7", "done"]);
    expect(calls.started).toEqual(["fake"]);
    expect(calls.admitted).toEqual(["fake"]);
    const [record] = calls.finished;
    expect(record).toMatchObject({ model: "fake", outcome: "completed", promptTokens: 4, completionTokens: 4 });
    expect(record!.ttftSeconds!).toBeGreaterThan(0);
    expect(record!.decodeSeconds!).toBeGreaterThan(0);
    expect(record!.e2eSeconds).toBeGreaterThanOrEqual(record!.ttftSeconds! + record!.decodeSeconds! - 1e-9);
  });

  test("Should report a stream the consumer left early as cancelled, once - and free the sequence", async () => {
    const { engine, calls } = setup({ models: [{ id: "fake", parallel: 1 }] });
    const stream = await engine.generate(generation({ sampling: { ...generation().sampling, maxTokens: 10 } }));
    for await (const event of stream) if (event.type === "text") break;
    expect(calls.finished.map((record) => record.outcome)).toEqual(["cancelled"]);
    expect(engine.models()[0]!.busySequences).toBe(0);
  });

  test("Should report a stream that failed midway as failed", async () => {
    const { engine, calls } = setup({ fault: () => "stream" });
    const stream = await engine.generate(generation({ sampling: { ...generation().sampling, maxTokens: null } }));
    const drain = async () => {
      for await (const _ of stream);
    };
    await expect(drain()).rejects.toThrow();
    expect(calls.finished.map((record) => record.outcome)).toEqual(["failed"]);
  });

  test("Should report a refused request with its code - under 'unknown' for a model that is not configured", async () => {
    const { engine, calls } = setup();
    await expect(engine.generate(generation({ model: "made-up-by-client" }))).rejects.toThrow();
    await expect(engine.generate(generation({ input: { kind: "text", prompt: "word ".repeat(5000) } }))).rejects.toThrow();
    expect(calls.rejected).toEqual([
      ["unknown", "model_not_found"],
      ["fake", "context_length_exceeded"],
    ]);
    expect(calls.finished).toEqual([]);
  });

  test("Should report embeddings with their prompt tokens", async () => {
    const { engine, calls } = setup();
    await engine.embed({ requestId: "e", model: "fake", inputs: ["a b", "c"], signal: new AbortController().signal, waitForModel: true });
    expect(calls.embedded).toEqual([["fake", 3]]);
  });
});
