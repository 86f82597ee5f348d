import { z } from "zod";
import { BASE_TOKEN_COUNT } from "./forge-vocab";

export const tensorTypes = ["f32", "f16", "q8_0"] as const;

/** Below this the random successor codes leave too thin a logit margin (see successor-rule.ts). */
export const MIN_EMBEDDING_SIZE = 64;

const count = (description: string) => z.number().int().positive().describe(description);

export const forgeOptionsSchema = z.strictObject({
  preset: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, "must be lowercase letters, digits and dashes (it names the files)")
    .describe("name of the pair; files are <preset>-target.gguf, <preset>-draft.gguf, <preset>.manifest.json"),
  embeddingSize: count("hidden size E of both models"),
  layers: count("transformer blocks of the target"),
  ffnSize: count("feed-forward size of the target"),
  heads: count("attention heads"),
  kvHeads: count("key/value heads (grouped-query attention)"),
  vocabSize: count("tokens in the shared vocabulary; beyond the base tokens it is padding"),
  contextLength: z.number().int().min(32).describe("llama.context_length of both models"),
  tensorType: z
    .enum(tensorTypes, { error: (issue) => `must be one of ${tensorTypes.join(", ")} (got ${JSON.stringify(issue.input)})` })
    .describe("encoding of the 2-D weights; norms are always f32"),
  seed: z.number().int().min(0).max(0xffffffff).describe("seed of every random tensor and of the draft's disagreements"),
  draftLayers: count("transformer blocks of the draft"),
  draftFfnSize: count("feed-forward size of the draft"),
  draftDisagreement: z
    .number()
    .min(0)
    .max(1)
    .describe("share of each successor cycle on which the draft predicts a different token than the target"),
});

export type ForgeOptions = z.infer<typeof forgeOptionsSchema>;

export const presets = {
  /** Every model test loads this one: about 1.7 MB, forged in milliseconds. */
  tiny: {
    preset: "tiny",
    embeddingSize: 128,
    layers: 2,
    ffnSize: 256,
    heads: 4,
    kvHeads: 2,
    vocabSize: 512,
    contextLength: 512,
    tensorType: "f32",
    seed: 1,
    draftLayers: 1,
    draftFfnSize: 64,
    draftDisagreement: 0.2,
  },
  /** Served on first start: about 28 MB, well over 100 tokens/s on two CPU cores. */
  demo: {
    preset: "demo",
    embeddingSize: 512,
    layers: 8,
    ffnSize: 1408,
    heads: 8,
    kvHeads: 4,
    vocabSize: 2048,
    contextLength: 2048,
    tensorType: "q8_0",
    seed: 2,
    draftLayers: 1,
    draftFfnSize: 256,
    draftDisagreement: 0.1,
  },
  /** TinyLlama's shape (1.0B parameters with an 8k vocabulary, 1.07 GB) and a draft about 30x faster per token. */
  bench: {
    preset: "bench",
    embeddingSize: 2048,
    layers: 22,
    ffnSize: 5632,
    heads: 32,
    kvHeads: 4,
    vocabSize: 8192,
    contextLength: 2048,
    tensorType: "q8_0",
    seed: 3,
    draftLayers: 1,
    draftFfnSize: 512,
    draftDisagreement: 0.1,
  },
} as const satisfies Record<string, ForgeOptions>;

export type PresetName = keyof typeof presets;

export class ForgeOptionsError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`invalid forge options: ${problems.join("; ")}`);
    this.name = "ForgeOptionsError";
    this.problems = problems;
  }
}

/** The preset's options with `overrides` applied, validated; `overrides.preset` renames the pair. */
export function resolveForgeOptions(preset: string, overrides: Record<string, unknown> = {}): ForgeOptions {
  if (!Object.hasOwn(presets, preset)) {
    throw new ForgeOptionsError([`unknown preset "${preset}"; expected one of ${Object.keys(presets).join(", ")}`]);
  }
  return validateForgeOptions({ ...presets[preset as PresetName], ...overrides });
}

/** Parses `input` and checks what one field alone cannot: shapes llama.cpp and the successor rule need. */
export function validateForgeOptions(input: unknown): ForgeOptions {
  const parsed = forgeOptionsSchema.safeParse(input);
  if (!parsed.success) {
    throw new ForgeOptionsError(
      parsed.error.issues.map((issue) => (issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message)),
    );
  }
  const problems = crossFieldProblems(parsed.data);
  if (problems.length > 0) throw new ForgeOptionsError(problems);
  return parsed.data;
}

function crossFieldProblems(o: ForgeOptions): string[] {
  const problems: string[] = [];
  const E = o.embeddingSize;
  if (E < MIN_EMBEDDING_SIZE) {
    problems.push(`embedding size (${E}) must be at least ${MIN_EMBEDDING_SIZE} to keep the successor rule's logit margin`);
  }
  if (E % o.heads !== 0) {
    problems.push(`heads (${o.heads}) must divide embedding size (${E})`);
  } else if ((E / o.heads) % 2 !== 0) {
    problems.push(`head size (embedding size ${E} / heads ${o.heads} = ${E / o.heads}) must be even for RoPE`);
  }
  if (o.heads % o.kvHeads !== 0) {
    problems.push(`kv heads (${o.kvHeads}) must divide heads (${o.heads})`);
  }
  if (o.vocabSize < BASE_TOKEN_COUNT) {
    problems.push(`vocab size (${o.vocabSize}) must be at least the base token count (${BASE_TOKEN_COUNT})`);
  }
  if (o.draftLayers > o.layers) {
    problems.push(`draft layers (${o.draftLayers}) must not exceed layers (${o.layers})`);
  }
  if (o.tensorType === "q8_0") {
    // Q8_0 quantizes blocks of 32 along each row (ne0), which is E or an ffn size.
    const rows: [string, number][] = [
      ["embedding size", E],
      ["ffn size", o.ffnSize],
      ["draft ffn size", o.draftFfnSize],
    ];
    for (const [name, size] of rows) {
      if (size % 32 !== 0) problems.push(`q8_0 needs ${name} (${size}) to be a multiple of 32`);
    }
  }
  return problems;
}
