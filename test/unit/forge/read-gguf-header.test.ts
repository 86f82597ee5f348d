import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { presets } from "../../../src/forge/forge-options";
import { forgePair } from "../../../src/forge/forge-pair";
import { BASE_TOKEN_COUNT } from "../../../src/forge/forge-vocab";
import { type GgufHeader, readGgufHeader } from "../../../src/forge/read-gguf-header";

const dir = mkdtempSync(join(tmpdir(), "enclave-forge-gguf-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tiny = presets.tiny;
const q8 = { ...presets.tiny, preset: "tiny-q8", tensorType: "q8_0" as const };
let target: GgufHeader;
let draft: GgufHeader;
let quantized: GgufHeader;
beforeAll(async () => {
  await forgePair(tiny, dir);
  await forgePair(q8, dir);
  target = await readGgufHeader(join(dir, "tiny-target.gguf"));
  draft = await readGgufHeader(join(dir, "tiny-draft.gguf"));
  quantized = await readGgufHeader(join(dir, "tiny-q8-target.gguf"));
});

const E = tiny.embeddingSize;
const Ekv = (E / tiny.heads) * tiny.kvHeads;

describe("forged GGUF header", () => {
  test("Should be GGUF v3 with the llama metadata llama.cpp reads", () => {
    expect(target.version).toBe(3);
    expect(target.metadata).toMatchObject({
      "general.architecture": "llama",
      "general.name": "enclave-forge tiny target",
      "general.file_type": 0,
      "general.quantization_version": 2,
      "general.alignment": 32,
      "llama.context_length": tiny.contextLength,
      "llama.embedding_length": E,
      "llama.block_count": tiny.layers,
      "llama.feed_forward_length": tiny.ffnSize,
      "llama.attention.head_count": tiny.heads,
      "llama.attention.head_count_kv": tiny.kvHeads,
      "llama.rope.dimension_count": E / tiny.heads,
      "llama.rope.freq_base": 10000,
      "llama.vocab_size": tiny.vocabSize,
      "tokenizer.ggml.model": "llama",
      "tokenizer.ggml.bos_token_id": 1,
      "tokenizer.ggml.eos_token_id": 2,
      "tokenizer.ggml.unknown_token_id": 0,
      "tokenizer.ggml.add_bos_token": true,
      "tokenizer.ggml.add_eos_token": false,
    });
    expect(target.metadata["llama.attention.layer_norm_rms_epsilon"]).toBeCloseTo(1e-5, 10);
    expect(target.metadata["tokenizer.chat_template"]).toContain("<|im_start|>assistant");
  });

  test("Should carry a SentencePiece vocab with byte fallback and padding", () => {
    const tokens = target.metadata["tokenizer.ggml.tokens"] as string[];
    const types = target.metadata["tokenizer.ggml.token_type"] as number[];
    expect(tokens).toHaveLength(tiny.vocabSize);
    expect(tokens.slice(0, 6)).toEqual(["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>", "<0x00>"]);
    expect(types.slice(0, 6)).toEqual([2, 3, 3, 3, 3, 6]);
    expect(tokens[5 + 255]).toBe("<0xFF>");
    expect(tokens[BASE_TOKEN_COUNT - 95]).toBe("\u2581");
    expect(tokens[BASE_TOKEN_COUNT - 1]).toBe("~");
    expect([tokens[BASE_TOKEN_COUNT], types[BASE_TOKEN_COUNT]]).toEqual(["[PAD0]", 5]);
  });

  test("Should list the llama tensors with ne0 first - and norms in f32", () => {
    const shapes = Object.fromEntries(target.tensors.map((t) => [t.name, [t.dims, t.type]]));
    expect(target.tensors).toHaveLength(3 + 9 * tiny.layers);
    expect(shapes).toMatchObject({
      "token_embd.weight": [[E, tiny.vocabSize], 0],
      "output_norm.weight": [[E], 0],
      "output.weight": [[E, tiny.vocabSize], 0],
      "blk.1.attn_norm.weight": [[E], 0],
      "blk.1.attn_q.weight": [[E, E], 0],
      "blk.1.attn_k.weight": [[E, Ekv], 0],
      "blk.1.attn_v.weight": [[E, Ekv], 0],
      "blk.1.attn_output.weight": [[E, E], 0],
      "blk.1.ffn_norm.weight": [[E], 0],
      "blk.1.ffn_gate.weight": [[E, tiny.ffnSize], 0],
      "blk.1.ffn_down.weight": [[tiny.ffnSize, E], 0],
      "blk.1.ffn_up.weight": [[E, tiny.ffnSize], 0],
    });
  });

  test("Should give the draft its own depth and ffn size", () => {
    expect(draft.metadata["llama.block_count"]).toBe(tiny.draftLayers);
    expect(draft.metadata["llama.feed_forward_length"]).toBe(tiny.draftFfnSize);
    expect(draft.tensors.find((t) => t.name === "blk.0.ffn_down.weight")?.dims).toEqual([tiny.draftFfnSize, E]);
    expect(draft.tensors.some((t) => t.name === "blk.1.attn_q.weight")).toBe(false);
  });

  test("Should quantize the weights to q8_0 and keep the norms f32", () => {
    expect(quantized.metadata["general.file_type"]).toBe(7);
    const types = Object.fromEntries(quantized.tensors.map((t) => [t.name, t.type]));
    expect([types["token_embd.weight"], types["blk.0.ffn_down.weight"], types["blk.0.attn_norm.weight"]]).toEqual([8, 8, 0]);
  });

  test("Should align every tensor to 32 bytes - and end the file with the last one", () => {
    for (const header of [target, quantized]) {
      for (const tensor of header.tensors) expect(tensor.offset % 32).toBe(0);
      expect(header.dataOffset % 32).toBe(0);
    }
    const last = target.tensors.at(-1)!;
    const lastBytes = last.dims.reduce((a, b) => a * b, 1) * 4;
    expect(statSync(join(dir, "tiny-target.gguf")).size).toBe(target.dataOffset + Math.ceil((last.offset + lastBytes) / 32) * 32);
  });

  test("Should reject a file that is not GGUF", async () => {
    const path = join(dir, "not.gguf");
    writeFileSync(path, "PK\u0003\u0004 not a model");
    await expect(readGgufHeader(path)).rejects.toThrow('not a GGUF file (magic "PK\\u0003\\u0004")');
  });
});
