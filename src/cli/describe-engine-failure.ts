import type { Config } from "../config/schema";

/**
 * One line for a default model that failed to load, naming the fix where the cause is known: a
 * GPU backend that this binary or this machine cannot run (node-llama-cpp's NoBinaryFoundError
 * and its "not compatible" message), else llama.cpp's first line. Never a stack.
 */
export function describeEngineFailure(error: unknown, config: Pick<Config, "engine">): string {
  const { name, message } = error instanceof Error ? error : { name: typeof error, message: String(error) };
  const text = `${name} ${message}`;
  const gpu = config.engine.gpu;
  if ((gpu === "cuda" || gpu === "vulkan") && /NoBinaryFoundError|not compatible|no prebuilt binary|not found/i.test(text))
    return `engine.gpu = "${gpu}" but this binary or this machine has no usable ${gpu === "cuda" ? "CUDA" : "Vulkan"} llama.cpp: set [engine] gpu = "auto" or "cpu" (ENCLAVE_ENGINE_GPU), or run a ${gpu} build (bun run build --gpu ${gpu}) on a machine with such a device`;
  const first = (message.split("\n")[0] ?? "").slice(0, 300);
  return `the default model failed to load (${name}): ${first}`;
}
