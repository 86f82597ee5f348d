import type { ForgeOptions } from "./forge-options";
import { BOS_ID, EOS_ID, UNK_ID, forgeVocab } from "./forge-vocab";
import type { GgufTensorInfo, GgufValue } from "./gguf-header";
import { type ForgedModel, successorTable } from "./successor-rule";

/** ChatML, so node-llama-cpp and llama.cpp take their ordinary ChatML path. */
export const CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}" +
  "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** Logit of the successor: far enough above the others that even sampling at temperature 1 follows the rule. */
const SUCCESSOR_LOGIT = 30;
/** Std of the layer weights relative to 1/sqrt(fan-in): enough to compute, too little to move the argmax. */
const LAYER_WEIGHT_GAIN = 0.1;

/**
 * Every value is scale x q with q an int8; one stream of q therefore encodes the same model
 * as f32, f16 or q8_0 (whose blocks store exactly that scale and q).
 */
export type TensorContent =
  /** q = 1: RMS norm weights. */
  | { kind: "ones" }
  /** Row r is the ±1 code of token codeOfRow[r], seeded per token. */
  | { kind: "codes"; codeOfRow: Int32Array; scale: number }
  /** q odd and uniform in [-127, 127] from the stream named after the tensor. */
  | { kind: "random"; scale: number };

export type ForgedTensor = GgufTensorInfo & { content: TensorContent };

export type ForgedModelLayout = {
  metadata: [string, GgufValue][];
  tensors: ForgedTensor[];
  parameters: number;
};

/**
 * Each token's embedding is the code of its successor and the output head's row t is the code
 * of t, so the head scores the successor at SUCCESSOR_LOGIT and every other token near zero
 * (random codes are nearly orthogonal). The transformer blocks add small seeded noise to the
 * residual stream; the draft shares the head and the blocks' seeds, and differs in depth,
 * ffn size and the successor table behind its embeddings.
 */
export function forgedModel(options: ForgeOptions, which: ForgedModel): ForgedModelLayout {
  const E = options.embeddingSize;
  const V = options.vocabSize;
  const layers = which === "target" ? options.layers : options.draftLayers;
  const F = which === "target" ? options.ffnSize : options.draftFfnSize;
  const Ekv = (E / options.heads) * options.kvHeads;
  const type = options.tensorType;

  const random = (name: string, dims: [number, number]): ForgedTensor => ({
    name,
    dims,
    type,
    content: { kind: "random", scale: (Math.sqrt(3) * LAYER_WEIGHT_GAIN) / Math.sqrt(dims[0]) / 127 },
  });
  const norm = (name: string): ForgedTensor => ({ name, dims: [E], type: "f32", content: { kind: "ones" } });

  const tensors: ForgedTensor[] = [
    { name: "token_embd.weight", dims: [E, V], type, content: { kind: "codes", codeOfRow: successorTable(options, which), scale: 1 } },
    norm("output_norm.weight"),
    {
      name: "output.weight",
      dims: [E, V],
      type,
      content: { kind: "codes", codeOfRow: Int32Array.from({ length: V }, (_, t) => t), scale: SUCCESSOR_LOGIT / E },
    },
  ];
  for (let layer = 0; layer < layers; layer++) {
    const blk = `blk.${layer}`;
    tensors.push(
      norm(`${blk}.attn_norm.weight`),
      random(`${blk}.attn_q.weight`, [E, E]),
      random(`${blk}.attn_k.weight`, [E, Ekv]),
      random(`${blk}.attn_v.weight`, [E, Ekv]),
      random(`${blk}.attn_output.weight`, [E, E]),
      norm(`${blk}.ffn_norm.weight`),
      random(`${blk}.ffn_gate.weight`, [E, F]),
      random(`${blk}.ffn_down.weight`, [F, E]),
      random(`${blk}.ffn_up.weight`, [E, F]),
    );
  }

  const vocab = forgeVocab(V);
  const u32 = (value: number): GgufValue => ({ type: "u32", value });
  const f32 = (value: number): GgufValue => ({ type: "f32", value });
  const str = (value: string): GgufValue => ({ type: "string", value });
  const metadata: [string, GgufValue][] = [
    ["general.architecture", str("llama")],
    ["general.name", str(`enclave-forge ${options.preset} ${which}`)],
    ["general.file_type", u32({ f32: 0, f16: 1, q8_0: 7 }[type])],
    ["general.quantization_version", u32(2)],
    ["general.alignment", u32(32)],
    ["llama.context_length", u32(options.contextLength)],
    ["llama.embedding_length", u32(E)],
    ["llama.block_count", u32(layers)],
    ["llama.feed_forward_length", u32(F)],
    ["llama.attention.head_count", u32(options.heads)],
    ["llama.attention.head_count_kv", u32(options.kvHeads)],
    ["llama.rope.dimension_count", u32(E / options.heads)],
    ["llama.rope.freq_base", f32(10000)],
    ["llama.attention.layer_norm_rms_epsilon", f32(1e-5)],
    ["llama.vocab_size", u32(V)],
    ["tokenizer.ggml.model", str("llama")],
    ["tokenizer.ggml.tokens", { type: "string[]", value: vocab.pieces }],
    ["tokenizer.ggml.scores", { type: "f32[]", value: new Array<number>(V).fill(0) }],
    ["tokenizer.ggml.token_type", { type: "i32[]", value: vocab.types }],
    ["tokenizer.ggml.bos_token_id", u32(BOS_ID)],
    ["tokenizer.ggml.eos_token_id", u32(EOS_ID)],
    ["tokenizer.ggml.unknown_token_id", u32(UNK_ID)],
    ["tokenizer.ggml.add_bos_token", { type: "bool", value: true }],
    ["tokenizer.ggml.add_eos_token", { type: "bool", value: false }],
    ["tokenizer.chat_template", str(CHAT_TEMPLATE)],
  ];

  const parameters = tensors.reduce((sum, t) => sum + t.dims.reduce((a, b) => a * b, 1), 0);
  return { metadata, tensors, parameters };
}
