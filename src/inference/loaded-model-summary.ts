import { basename } from "node:path";
import type { Llama } from "node-llama-cpp";
import type { ModelConfig } from "../config/schema";
import type { ModelRuntime } from "./model-runtime";
import type { SpeculativeStatus } from "./types";

const BACKENDS: Record<string, string> = { cuda: "CUDA", vulkan: "Vulkan", metal: "Metal" };

/**
 * The "model ready" log line: what the admin got, as llama.cpp reports it after loading: the
 * backend, how many layers it offloaded (gpu_layers = "auto" decides that from free VRAM), the
 * VRAM in use, whether the weights are mapped from the file (mmap = "auto" decides that too), context
 * and sequences, and the draft.
 */
export async function loadedModelSummary(
  llama: Llama,
  runtime: ModelRuntime,
  config: ModelConfig,
  mode: SpeculativeStatus["mode"],
  ms: number,
): Promise<{ fields: Record<string, string | number | null>; message: string }> {
  const backend = llama.gpu === false ? "CPU" : (BACKENDS[llama.gpu] ?? llama.gpu);
  const gpuLayers = runtime.model.gpuLayers;
  const totalLayers = runtime.model.fileInsights.totalLayers;
  let vramUsedBytes: number | null = null;
  if (llama.gpu !== false) vramUsedBytes = await llama.getVramState().then((state) => state.used, () => null);
  const draft = mode === "draft" && config.draft != null ? `draft ${basename(config.draft.path)}` : mode === "lookup" ? "prompt-lookup drafting" : "no draft";
  const vram = vramUsedBytes == null ? "" : `, ${(vramUsedBytes / 2 ** 30).toFixed(2)} GiB VRAM used`;
  return {
    fields: {
      model: config.id,
      ms,
      backend,
      gpuLayers,
      totalLayers,
      vramUsedBytes,
      mmap: runtime.model.useMmap ? "on" : "off",
      contextSize: runtime.contextSize,
      sequences: runtime.sequences.length,
      speculative: mode,
      draft: mode === "draft" ? (config.draft?.path ?? null) : null,
    },
    message: `model ${config.id} ready in ${ms} ms: ${backend}, ${gpuLayers}/${totalLayers} layers on the GPU${vram}, weights ${runtime.model.useMmap ? "mapped from the file" : "read into memory"}, context ${runtime.contextSize} x ${runtime.sequences.length} sequences, ${draft}`,
  };
}
