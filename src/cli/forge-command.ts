import { resolve } from "node:path";
import { ForgeOptionsError, presets, resolveForgeOptions, type ForgeOptions } from "../forge/forge-options";
import { forgePair } from "../forge/forge-pair";
import { defineCommand, type OptionSpec } from "./command-spec";
import { parseCommandLine } from "./parse-command-line";
import { createProgressReporter } from "./progress-reporter";

/** CLI flag -> forge option; every flag overrides the preset's value. */
const numericFlags = {
  "embedding-size": "embeddingSize",
  layers: "layers",
  "ffn-size": "ffnSize",
  heads: "heads",
  "kv-heads": "kvHeads",
  "vocab-size": "vocabSize",
  "context-length": "contextLength",
  seed: "seed",
  "draft-layers": "draftLayers",
  "draft-ffn-size": "draftFfnSize",
  "draft-disagreement": "draftDisagreement",
} as const satisfies Record<string, keyof ForgeOptions>;

const spec = defineCommand({
  name: "forge",
  description: "write a deterministic target+draft GGUF pair (and its manifest) for tests, demos and benchmarks",
  options: {
    preset: { type: "string", value: "tiny|demo|bench", description: "the starting shape", default: "demo" },
    out: { type: "string", value: "DIR", description: "directory to write into", default: "./models" },
    name: { type: "string", value: "NAME", description: "file name prefix instead of the preset's" },
    "tensor-type": { type: "string", value: "f32|f16|q8_0", description: "tensor encoding instead of the preset's" },
    ...(Object.fromEntries(Object.keys(numericFlags).map((flag) => [flag, { type: "string", value: "N", description: `${flag.replaceAll("-", " ")} instead of the preset's` }])) as Record<
      keyof typeof numericFlags,
      OptionSpec
    >),
  },
});

/** `enclave forge [--preset tiny|demo|bench] [--out DIR] [--name NAME] [--tensor-type f32|f16|q8_0] [--<shape flag> N ...]` */
export async function forgeCommand(args: string[]): Promise<number> {
  const parsed = parseCommandLine(spec, args);
  if (typeof parsed === "number") return parsed;
  const { values } = parsed;
  const overrides: Record<string, unknown> = {};
  for (const [flag, key] of Object.entries(numericFlags)) {
    const raw = values[flag as keyof typeof values];
    if (typeof raw === "string") overrides[key] = Number(raw);
  }
  if (values["tensor-type"] != null) overrides.tensorType = values["tensor-type"];
  if (values.name != null) overrides.preset = values.name;

  let options: ForgeOptions;
  try {
    options = resolveForgeOptions(values.preset!, overrides);
  } catch (error) {
    if (!(error instanceof ForgeOptionsError)) throw error;
    console.error(`enclave forge: ${error.problems.join("\n  ")}`);
    console.error(`presets: ${Object.keys(presets).join(", ")}`);
    return 2;
  }
  const outDir = resolve(values.out!);
  const progress = createProgressReporter(`forging ${options.preset} pair into ${outDir}`);
  const started = performance.now();
  const manifest = await forgePair(options, outDir, (done, total) => progress.update(done, total));
  progress.finish(`forged ${options.preset} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  console.log(JSON.stringify(manifest, null, 2));
  return 0;
}
