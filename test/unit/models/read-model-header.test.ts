import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { presets } from "../../../src/forge/forge-options";
import { forgePair } from "../../../src/forge/forge-pair";
import { ModelHeaderError, readModelHeader } from "../../../src/models/read-model-header";

const dir = mkdtempSync(join(tmpdir(), "enclave-model-header-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await forgePair(presets.tiny, dir);
  await forgePair({ ...presets.tiny, preset: "tiny-wide", vocabSize: 1024 }, dir);
});

describe("readModelHeader", () => {
  test("Should read architecture, context length, vocabulary size and hash - from the forged tiny target", async () => {
    const header = await readModelHeader(join(dir, "tiny-target.gguf"));
    expect(header).toMatchObject({ architecture: "llama", contextLength: presets.tiny.contextLength, vocabSize: presets.tiny.vocabSize, tokenizer: "llama" });
    expect(header.vocabHash).toMatch(/^[0-9a-f]{16}$/);
  });

  test("Should give target and draft of one pair the same vocabulary hash - and a wider vocabulary another", async () => {
    const [target, draft, wide] = await Promise.all(["tiny-target.gguf", "tiny-draft.gguf", "tiny-wide-draft.gguf"].map((file) => readModelHeader(join(dir, file))));
    expect(draft!.vocabHash).toBe(target!.vocabHash);
    expect(wide!.vocabSize).toBe(1024);
    expect(wide!.vocabHash).not.toBe(target!.vocabHash);
  });

  const bad: [string, (path: string) => void, string][] = [
    ["missing", () => {}, "no such file"],
    ["text.gguf", (path) => writeFileSync(path, "this is a text file, not a model\n".repeat(4)), "not a GGUF file"],
    ["empty.gguf", (path) => writeFileSync(path, ""), "not a complete GGUF file"],
    ["truncated.gguf", (path) => writeFileSync(path, new Uint8Array([0x47, 0x47, 0x55, 0x46, 3, 0, 0, 0, 1])), "not a complete GGUF file"],
    ["folder.gguf", (path) => mkdirSync(path), "a directory"],
  ];
  for (const [name, make, problem] of bad) {
    test(`Should refuse ${name} with a plain reason - "${problem}"`, async () => {
      const path = join(dir, name);
      make(path);
      const error = await readModelHeader(path).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ModelHeaderError);
      expect((error as ModelHeaderError).problem).toStartWith(problem);
      expect((error as ModelHeaderError).message).toBe(`${path}: ${(error as ModelHeaderError).problem}`);
    });
  }
});
