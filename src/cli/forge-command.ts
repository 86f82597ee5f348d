import { resolve } from "node:path";
import { ForgeOptionsError, presets, resolveForgeOptions, type ForgeOptions } from "../forge/forge-options";
import { forgePair } from "../forge/forge-pair";
import { parseOptions } from "./parse-options";
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

/** `enclave forge [--preset tiny|demo|bench] [--out DIR] [--name NAME] [--tensor-type f32|f16|q8_0] [--<shape flag> N ...]` */
export async function forgeCommand(args: string[]): Promise<number> {
  const { values } = parseOptions(args, {
    preset: { type: "string", default: "demo" },
    out: { type: "string", default: "./models" },
    name: { type: "string" },
    "tensor-type": { type: "string" },
    ...Object.fromEntries(Object.keys(numericFlags).map((flag) => [flag, { type: "string" as const }])),
  });
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
