import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Llama } from "node-llama-cpp";
import { createLlamaEngine } from "../../../src/inference/llama-engine";
import { modelConfig, sharedLlama } from "./tiny-pair";

const dir = mkdtempSync(join(tmpdir(), "enclave-engine-failure-"));
let llama: Llama;
beforeAll(async () => {
  llama = await sharedLlama();
});
afterAll(async () => {
  await llama?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe("llama engine failure log", () => {
  test("Should log the model id, error class and llama.cpp's reason when a model fails to load - not just {type: Error}", async () => {
    const path = join(dir, "broken.gguf");
    writeFileSync(path, "GGUF but not really a model file at all, padded out to some length ".repeat(8));
    const logged: Record<string, unknown>[] = [];
    const record = (fields: unknown, msg?: string) => void logged.push({ ...(fields as Record<string, unknown>), msg });
    const engine = createLlamaEngine({
      config: { engine: { gpu: "cpu", max_threads: 1 }, models: [modelConfig({ id: "broken", path })] },
      logger: { debug() {}, info() {}, warn() {}, error: record },
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
