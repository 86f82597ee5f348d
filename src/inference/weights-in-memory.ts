import { statSync } from "node:fs";
import { freemem } from "node:os";
import type { ModelConfig } from "../config/schema";

/**
 * Memory this process may still take: the system's free memory, or what its cgroup's limit (a
 * container's, a systemd unit's MemoryMax) leaves, if that is less. Bun's `availableMemory()` gives
 * the system's alone; its `constrainedMemory()` reads the limit.
 */
export function availableMemoryBytes(): number {
  const limit = process.constrainedMemory();
  const free = freemem();
  return limit > 0 ? Math.min(free, limit - process.memoryUsage.rss()) : free;
}

/**
 * What a model's `mmap` setting asks node-llama-cpp for (`useMmap`). "auto" reads the weights into
 * the process's memory where llama.cpp computes on the CPU alone and the memory it may still take
 * holds them with a quarter to spare (the KV cache comes on top), as ollama does for CPU loads: on this project's dev
 * VM a mapped 1 GB model's first token after a second idle took 221-266 ms against 34-45 ms read,
 * and it decoded 22-25 against 32-33 tokens/s (its mapped pages went cold between requests, for
 * llama-server alike). Elsewhere it is node-llama-cpp's "auto": the file is mapped, unless reading
 * it lets more layers onto the GPU; a model too large to read stays mapped, so that it still loads.
 */
export function useMmapFor(
  config: Pick<ModelConfig, "mmap" | "gpu_layers" | "path"> & { draft?: Pick<NonNullable<ModelConfig["draft"]>, "path"> },
  computesOnGpu: boolean,
  freeBytes: () => number = availableMemoryBytes,
): "auto" | boolean {
  if (config.mmap !== "auto") return config.mmap === "on";
  if (computesOnGpu && config.gpu_layers !== 0) return "auto";
  let weights = 0;
  try {
    for (const path of [config.path, config.draft?.path]) if (path != null) weights += statSync(path).size;
  } catch {
    // A file that cannot be read fails the load itself, with node-llama-cpp's own error.
    return "auto";
  }
  return weights * 1.25 < freeBytes() ? false : "auto";
}
