import type { Llama } from "node-llama-cpp";
import type { RuntimeInfo } from "./metrics-registry";

/** Build info and the VRAM reader of a loaded llama.cpp, for metrics.setRuntime(). */
export function runtimeInfoOf(llama: Pick<Llama, "gpu" | "llamaCppRelease" | "getVramState">): RuntimeInfo {
  const gpuBackend = llama.gpu === false ? "cpu" : llama.gpu;
  return {
    llamaCppRelease: llama.llamaCppRelease.release,
    gpuBackend,
    ...(llama.gpu !== false && { vramState: () => llama.getVramState() }),
  };
}
