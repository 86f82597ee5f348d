import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { modelSchema } from "../../../src/config/schema";
import { presets } from "../../../src/forge/forge-options";
import { forgePair } from "../../../src/forge/forge-pair";
import { checkModelFiles } from "../../../src/models/check-model-files";

const dir = mkdtempSync(join(tmpdir(), "enclave-check-models-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await forgePair(presets.tiny, dir);
  await forgePair({ ...presets.tiny, preset: "tiny-wide", vocabSize: 1024 }, dir);
});

const model = (id: string, path: string, draft?: string) => modelSchema.parse({ id, path: join(dir, path), ...(draft != null && { draft: { path: join(dir, draft) } }) });

describe("checkModelFiles", () => {
  test("Should pass a forged pair - and report each file's header", async () => {
    const { models, problems } = await checkModelFiles([model("tiny", "tiny-target.gguf", "tiny-draft.gguf")], "enclave.toml");
    expect(problems).toEqual([]);
    expect(models[0]).toMatchObject({ id: "tiny", header: { architecture: "llama", vocabSize: 512 }, draft: { header: { vocabSize: 512 }, vocabMatches: true } });
  });

  test("Should report a draft of another vocabulary - with both sizes and hashes", async () => {
    const { models, problems } = await checkModelFiles([model("tiny", "tiny-target.gguf", "tiny-wide-draft.gguf")], "enclave.toml");
    expect(models[0]!.draft!.vocabMatches).toBe(false);
    expect(problems).toEqual([
      {
        source: "enclave.toml",
        key: "models[0].draft.path",
        expected: expect.stringMatching(/^a draft with the vocabulary of model 'tiny' \(512 tokens, hash [0-9a-f]{16}\)$/),
        got: expect.stringMatching(/^1024 tokens, hash [0-9a-f]{16}: the draft has 1024 tokens, the target 512/),
      },
    ]);
  });

  test("Should not check a draft the model never loads - speculative none or lookup", async () => {
    const models = (["none", "lookup"] as const).map((speculative) => ({ ...model(speculative, "tiny-target.gguf", "tiny-wide-draft.gguf"), speculative }));
    const check = await checkModelFiles(models, "enclave.toml");
    expect(check.problems).toEqual([]);
    expect(check.models.map((report) => report.draft)).toEqual([undefined, undefined]);
  });

  test("Should report a missing target and a missing draft - each by its key, no vocabulary verdict", async () => {
    const { models, problems } = await checkModelFiles([model("a", "tiny-target.gguf"), model("b", "absent.gguf", "absent-draft.gguf")], "enclave.toml");
    expect(problems.map((problem) => [problem.key, problem.got])).toEqual([
      ["models[1].path", `no such file (${join(dir, "absent.gguf")})`],
      ["models[1].draft.path", `no such file (${join(dir, "absent-draft.gguf")})`],
    ]);
    expect(models[1]).toMatchObject({ header: null, draft: { header: null, vocabMatches: null } });
  });
});
