import { createHash } from "node:crypto";
import type { GgufHeader } from "../forge/read-gguf-header";

/**
 * What an admin checks in a GGUF file before serving it: architecture, context length, layers,
 * vocabulary size and a hash of its tokens (a draft must share its target's), from the header.
 */
export function ggufSummary(header: GgufHeader) {
  const meta = header.metadata;
  const arch = typeof meta["general.architecture"] === "string" ? meta["general.architecture"] : null;
  const number = (key: string) => {
    const value = meta[key];
    return typeof value === "number" ? value : typeof value === "bigint" ? Number(value) : null;
  };
  const tokens = Array.isArray(meta["tokenizer.ggml.tokens"]) ? meta["tokenizer.ggml.tokens"].map(String) : null;
  return {
    gguf_version: header.version,
    name: typeof meta["general.name"] === "string" ? meta["general.name"] : null,
    architecture: arch,
    context_length: arch != null ? number(`${arch}.context_length`) : null,
    embedding_length: arch != null ? number(`${arch}.embedding_length`) : null,
    block_count: arch != null ? number(`${arch}.block_count`) : null,
    file_type: number("general.file_type"),
    tokenizer: typeof meta["tokenizer.ggml.model"] === "string" ? meta["tokenizer.ggml.model"] : null,
    vocab_size: tokens?.length ?? null,
    // Tokens joined by NUL, which no token contains: the same vocabulary gives the same hash.
    vocab_sha256: tokens != null ? createHash("sha256").update(tokens.join("\0")).digest("hex") : null,
    tensors: header.tensors.length,
  };
}
