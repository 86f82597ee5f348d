import type { Logger } from "../logging/logger";

/**
 * The shapes of llama.cpp messages known to carry no payload: model loading, context and KV cache
 * set-up, backend (ggml) notices, one line each, no quoted text. Everything else is withheld:
 * llama.cpp prints a grammar it cannot parse whole (property names, enum and const values of a
 * caller's schema), and a tokenizer or sampler warning may quote tokens. (llama.cpp's grammar
 * parser also writes the failing grammar straight to stderr, past any logger: only schemas checked
 * at the edge, which always convert to a grammar it parses, reach it.)
 */
const PAYLOAD_FREE: readonly RegExp[] = [
  /^(llama_grammar_init_impl: )?failed to parse grammar$/,
  /^(llama_model_load|llama_model_loader|llama_context|llama_kv_cache[a-z_]*|llama_init_from_model|llama_new_context_with_model|load_tensors|load|print_info|llm_load_[a-z_]+|ggml_[a-z0-9_]+|gguf_[a-z_]+): [^"'`\n]*$/,
];

/** True when `message` (trimmed) is on the payload-free list. */
export function isPayloadFreeLlamaMessage(message: string): boolean {
  return PAYLOAD_FREE.some((shape) => shape.test(message));
}

/**
 * node-llama-cpp's logger callback: a payload-free message reaches the log as it is (cut to 300
 * characters); any other is logged only as its level and length.
 */
export function createLlamaLogForwarder(logger: Pick<Logger, "warn">) {
  return (level: string, message: string): void => {
    const text = message.trim();
    if (isPayloadFreeLlamaMessage(text)) logger.warn({ llamaLevel: level, message: text.slice(0, 300) }, "llama.cpp");
    else logger.warn({ llamaLevel: level, length: text.length }, "llama.cpp message withheld: not a known payload-free shape");
  };
}
