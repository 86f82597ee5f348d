import type { Caller } from "../caller/caller";

/**
 * The engine's own shapes. The HTTP layer translates OpenAI JSON into these (and back); the engine
 * and scheduler never see wire formats.
 */

export interface ToolCall {
  id: string;
  name: string;
  /** JSON text of the arguments, as OpenAI returns it. */
  arguments: string;
}

export type ChatMessage =
  | { role: "system" | "user"; content: string }
  | { role: "assistant"; content: string; toolCalls?: ToolCall[] }
  | { role: "tool"; content: string; toolCallId: string };

export interface ToolDefinition {
  name: string;
  description?: string;
  /** JSON Schema of the arguments object. */
  parameters?: Record<string, unknown>;
}

export type ToolChoice = "auto" | "none" | "required" | { name: string };

export type ResponseFormat =
  | { type: "text" }
  | { type: "json_object" }
  | { type: "json_schema"; name: string; schema: Record<string, unknown> };

export interface Sampling {
  /** null: until a stop, end of generation, or the context is full. */
  maxTokens: number | null;
  temperature: number;
  topP: number;
  /** Sample only among the k most likely tokens; absent or 0: no such cut (Anthropic's `top_k`). */
  topK?: number;
  /** Drop tokens less likely than minP times the most likely one; absent: no such cut (llama-server's `min_p`). */
  minP?: number;
  /**
   * llama.cpp's repeat penalty over recent tokens (1: none); absent: none. Applied beside the
   * presence and frequency penalties (llama-server's `repeat_penalty`).
   */
  repeatPenalty?: number;
  seed?: number;
  stop: string[];
  presencePenalty: number;
  frequencyPenalty: number;
  /** token id -> bias in [-100, 100] */
  logitBias: Record<number, number>;
}

export type GenerationInput =
  | { kind: "chat"; messages: ChatMessage[]; tools: ToolDefinition[]; toolChoice: ToolChoice }
  | { kind: "text"; prompt: string };

export interface GenerationRequest {
  requestId: string;
  /** A configured model id; the engine resolves it or throws ModelNotFoundError. */
  model: string;
  input: GenerationInput;
  sampling: Sampling;
  responseFormat: ResponseFormat;
  /** null: no logprobs; n: logprobs with the n most likely alternatives per token. */
  topLogprobs: number | null;
  /** Fires when the client goes away; generation stops and the sequence is freed. */
  signal: AbortSignal;
  /** false: answer 503 at once while the model is still loading instead of waiting for it. */
  waitForModel: boolean;
  /**
   * "off": no speculative decoding for this request; "on": speculative decoding even while adaptive
   * drafting has paused it (to compare speeds; greedy output is the same). Absent or "auto": the
   * model's speculative controller decides.
   */
  speculative?: "auto" | "on" | "off";
  /**
   * Regions this request may be processed in, narrowing `[residency]` (a key's or account's own
   * list); absent: the installation's allowed regions apply unchanged.
   */
  allowedRegions?: string[];
  /** The rule that set `allowedRegions`, named in a 403 residency_violation; default "key.allowed_regions". */
  allowedRegionsRule?: string;
  /** Who is calling, resolved by the /v1 gate; the guarded decorators refuse a request without it. */
  caller?: Caller;
  /** Answers to generate for this prompt (OpenAI's `n`), each on its own sequence; absent: one. */
  choices?: number;
}

export interface TokenLogprob {
  token: string;
  logprob: number;
  top: { token: string; logprob: number }[];
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  /** Completion tokens the draft model proposed and the target accepted; absent when nothing was drafted. */
  draftTokensAccepted?: number;
  /** Prompt tokens read from the prompt cache (this caller's earlier requests) instead of evaluated; absent: 0. */
  cachedTokens?: number;
}

export type FinishReason = "stop" | "length" | "tool_calls";

/** How one answer ended. */
export interface ChoiceEnd {
  finishReason: FinishReason;
  toolCalls: ToolCall[];
  /** With finishReason "stop": the stop string that ended the text, when the engine knows which one. */
  stopSequence?: string;
}

/**
 * A generation's stream: text as it comes, then one `done`. With several choices each text event
 * says whose it is, and the one `done` carries every choice's end (its own fields are choice 0's)
 * and the usage of all of them, so every decorator still sees one request ending once.
 */
export type GenerationEvent =
  | { type: "text"; text: string; logprobs?: TokenLogprob[]; /** The answer this text belongs to; absent: 0. */ choice?: number }
  /** A reasoning model's thoughts, which node-llama-cpp keeps apart from the answer; they come before its text. */
  | { type: "reasoning"; text: string; /** As on text. */ choice?: number }
  | (ChoiceEnd & {
      type: "done";
      usage: Usage;
      /** With `choices` > 1: how each answer ended, in index order. */
      choices?: ChoiceEnd[];
    });

export interface EmbeddingRequest {
  requestId: string;
  model: string;
  inputs: string[];
  signal: AbortSignal;
  waitForModel: boolean;
  /** As GenerationRequest.allowedRegions and allowedRegionsRule. */
  allowedRegions?: string[];
  allowedRegionsRule?: string;
  caller?: Caller;
}

export interface EmbeddingResult {
  vectors: number[][];
  promptTokens: number;
}

export type ModelState = "unloaded" | "loading" | "ready" | "failed";

export interface SpeculativeStatus {
  mode: "draft" | "lookup" | "none";
  /** Whether drafting is on right now (adaptive drafting may switch it off). */
  active: boolean;
  /** Accepted draft tokens / generated tokens over the recent window; null before any data. */
  acceptance: number | null;
  draftTokensProposed: number;
  draftTokensAccepted: number;
  /** Recent decode speed of uncontended runs with and without drafting, which adaptive drafting compares; null before any data. */
  tokensPerSecond?: { withDraft: number | null; withoutDraft: number | null };
  /** Decode time drafted runs saved against the measured no-draft speed, summed; negative when drafting cost time. */
  timeSavedSeconds?: number;
}

/** What a model's prompt cache holds now: sequences whose KV cells keep a scope's prefix for its next request. */
export interface PromptCacheStatus {
  scope: "account" | "key" | "off";
  /** Sequences, free or busy, whose cache belongs to a scope. */
  sequences: number;
  /** KV cells those sequences hold: the cache lives inside the context's preallocated KV cache, so cells are its memory. */
  tokens: number;
  /** Prefixes pushed out of the sequences and kept in RAM (`prompt_cache_mb`), and the bytes their KV states take. */
  ramPrefixes: number;
  ramBytes: number;
}

export interface ModelStatus {
  id: string;
  isDefault: boolean;
  state: ModelState;
  /** Unix seconds when the model entered the config (OpenAI's `created`). */
  created: number;
  contextSize: number;
  parallel: number;
  busySequences: number;
  queueDepth: number;
  speculative: SpeculativeStatus;
  /** Absent where the engine keeps no cache (the fake, upstreams). */
  promptCache?: PromptCacheStatus;
}
