import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Llama } from "node-llama-cpp";
import { createLlamaEngine } from "../../../src/inference/llama-engine";
import { forgeTinyPairs, modelConfig, sharedLlama } from "./tiny-pair";

const dir = mkdtempSync(join(tmpdir(), "enclave-engine-failure-"));
let llama: Llama;
beforeAll(async () => {
  llama = await sharedLlama();
});
afterAll(async () => {
  await llama?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function recordingLogger() {
  const logged: Record<string, unknown>[] = [];
  const record = (fields: unknown, msg?: string) => void logged.push({ ...(fields as Record<string, unknown>), msg });
  return { logged, logger: { debug() {}, info: record, warn() {}, error: record } };
}

describe("llama engine log", () => {
  test("Should say what a loaded model got - backend, GPU layers, context, sequences and draft", async () => {
    using forged = await forgeTinyPairs([0.2]);
    const pair = forged.pairs.get(0.2)!;
    const { logged, logger } = recordingLogger();
    const engine = createLlamaEngine({
      config: { engine: { gpu: "cpu", max_threads: 1 }, models: [modelConfig({ id: "tiny", path: pair.target, parallel: 2, draft: { path: pair.draft, min_tokens: 1, max_tokens: 4, min_confidence: 0.6, threads: 1, adaptive: true } })] },
      logger,
      loadLlama: async () => llama,
    });
    try {
      await engine.start();
      const line = logged.find((entry) => entry.model === "tiny" && typeof entry.backend === "string");
      expect(line).toMatchObject({ backend: "CPU", gpuLayers: 0, totalLayers: expect.any(Number), vramUsedBytes: null, mmap: "off", contextSize: 256, sequences: 2, speculative: "draft", draft: pair.draft });
      expect(line?.msg).toMatch(/^model tiny ready in \d+ ms: CPU, 0\/\d+ layers on the GPU, weights read into memory, context 256 x 2 sequences, draft tiny-d20-draft\.gguf$/);
    } finally {
      await engine[Symbol.asyncDispose]();
    }
  });


  test("Should log the model id, error class and llama.cpp's reason when a model fails to load - not just {type: Error}", async () => {
    const path = join(dir, "broken.gguf");
    writeFileSync(path, "GGUF but not really a model file at all, padded out to some length ".repeat(8));
    const { logged, logger } = recordingLogger();
    const engine = createLlamaEngine({
      config: { engine: { gpu: "cpu", max_threads: 1 }, models: [modelConfig({ id: "broken", path })] },
      logger,
      loadLlama: async () => llama,
    });
    try {
      await expect(engine.start()).rejects.toThrow();
      const line = logged.find((entry) => entry.msg === "model failed to load") as { model: string; err: { type: string; message: string } } | undefined;
      expect(line?.model).toBe("broken");
      expect(line?.err.type).toMatch(/Error$/);
      expect(line?.err.message.length).toBeGreaterThan(0);
      expect(line?.err.message).not.toContain("padded out");
    } finally {
      await engine[Symbol.asyncDispose]();
    }
  });
});
