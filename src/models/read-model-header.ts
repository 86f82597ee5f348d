import { createHash } from "node:crypto";
import { readGgufHeader, type GgufMetadataValue } from "../forge/read-gguf-header";

/** What `config check` and start-up need to know about a model file, read from its GGUF header alone. */
export interface ModelHeader {
  architecture: string;
  /** `<arch>.context_length`: the longest context the model was trained for; null when the file does not say. */
  contextLength: number | null;
  /** Tokens in `tokenizer.ggml.tokens`. */
  vocabSize: number;
  /** First 16 hex digits of the SHA-256 of the tokens in order, so two files' vocabularies compare at a glance. */
  vocabHash: string;
  /** `tokenizer.ggml.model`, e.g. llama (SentencePiece) or gpt2 (BPE). */
  tokenizer: string;
  /** The token pieces themselves, for comparing a draft with its target. */
  tokens: readonly string[];
}

export class ModelHeaderError extends Error {
  constructor(
    readonly path: string,
    /** What is wrong, without the path: "no such file", "not a GGUF file". */
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
    this.name = "ModelHeaderError";
  }
}

/** Reads a GGUF file's header; a missing file, a non-GGUF or a header without a vocabulary is a ModelHeaderError. */
export async function readModelHeader(path: string): Promise<ModelHeader> {
  let metadata: Record<string, GgufMetadataValue>;
  try {
    ({ metadata } = await readGgufHeader(path));
  } catch (error) {
    throw new ModelHeaderError(path, describeReadFailure(error));
  }
  const architecture = metadata["general.architecture"];
  if (typeof architecture !== "string") throw new ModelHeaderError(path, "GGUF header has no general.architecture");
  const tokens = metadata["tokenizer.ggml.tokens"];
  if (!Array.isArray(tokens) || tokens.some((token) => typeof token !== "string"))
    throw new ModelHeaderError(path, "GGUF header has no tokenizer.ggml.tokens vocabulary");
  const contextLength = metadata[`${architecture}.context_length`];
  const tokenizer = metadata["tokenizer.ggml.model"];
  const hash = createHash("sha256");
  // A separator no piece contains, so ["ab","c"] and ["a","bc"] hash apart.
  for (const token of tokens as string[]) hash.update(token).update("\0");
  return {
    architecture,
    contextLength: typeof contextLength === "number" || typeof contextLength === "bigint" ? Number(contextLength) : null,
    vocabSize: tokens.length,
    vocabHash: hash.digest("hex").slice(0, 16),
    tokenizer: typeof tokenizer === "string" ? tokenizer : "unknown",
    tokens: tokens as string[],
  };
}

function describeReadFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === "ENOENT") return "no such file";
  if (code === "EISDIR") return "a directory, not a GGUF file";
  if (code === "EACCES" || code === "EPERM") return "not readable by this user";
  const message = error instanceof Error ? error.message : String(error);
  if (message.startsWith("not a GGUF file")) return "not a GGUF file (it does not start with the GGUF magic)";
  if (message.includes("runs past the end")) return "not a complete GGUF file (its header runs past the end of the file)";
  return `not a readable GGUF file (${message.split("\n")[0]})`;
}
