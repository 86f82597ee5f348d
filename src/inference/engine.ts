import type { CacheOwner } from "./cache-scope";
import type { EmbeddingRequest, EmbeddingResult, GenerationEvent, GenerationRequest, ModelStatus } from "./types";

/**
 * What the API needs from inference. Implemented by the llama.cpp engine and by a deterministic
 * fake for tests that need no model. Errors are EnclaveError subclasses (src/errors.ts):
 * ModelNotFoundError, ContextLengthExceededError, OverloadedError (queue full, model loading),
 * InvalidRequestError, EngineError.
 */
export interface Engine extends AsyncDisposable {
  /** Loads the default model; resolves when it is ready. */
  start(): Promise<void>;
  /** True when the default model is loaded. */
  isReady(): boolean;
  models(): ModelStatus[];
  /**
   * Resolves once the request holds a sequence and its prompt fits the context, so the API can
   * still answer an error status before it starts a stream; rejects with the errors above. The
   * iterable yields text events, then exactly one `done` event.
   */
  generate(request: GenerationRequest): Promise<AsyncIterable<GenerationEvent>>;
  embed(request: EmbeddingRequest): Promise<EmbeddingResult>;
  /**
   * The prompt tokens `generate(request)` would feed the model (its tokenizer and chat template,
   * tools included), without taking a sequence or generating; rejects as generate() does before
   * admission (unknown model, loading, invalid tool choice), except that a prompt over the context
   * is still counted.
   */
  countTokens(request: GenerationRequest): Promise<number>;
  /** The local models' prompt cache; absent where the engine keeps none (the fake, upstreams). */
  readonly promptCache?: PromptCache;
}

/** The cached prompt prefixes of every local model, by cache scope (see cache-scope.ts). */
export interface PromptCache {
  /** The distinct scopes whose prefixes are cached now. */
  scopes(): string[];
  /** Erases the owner's cached prefixes in every model: free sequences at once, held ones when released. */
  forget(owner: CacheOwner): Promise<void>;
}
