import { getLlama, type Llama, LlamaLogLevel } from "node-llama-cpp";
import type { Config } from "../config/schema";
import type { Logger } from "../logging/logger";
import { createLlamaLogForwarder } from "./llama-log-forwarder";

/**
 * Starts llama.cpp as `[engine]` asks: the prebuilt backend only (never a build or a download at
 * run time), at most `maxThreads` threads, and only payload-free warnings forwarded to the log.
 * One place, so the engine and the model pool that shares one instance start it the same way.
 */
export function loadLlama(engine: Pick<Config["engine"], "gpu">, maxThreads: number, logger: Pick<Logger, "debug" | "info" | "warn" | "error">): Promise<Llama> {
  return getLlama({
    gpu: engine.gpu === "cpu" ? false : engine.gpu,
    build: "never",
    skipDownload: true,
    maxThreads,
    logLevel: LlamaLogLevel.warn,
    // At info and below llama.cpp echoes tokens, so only warnings pass, and of those only payload-free shapes.
    logger: createLlamaLogForwarder(logger),
  });
}
