import type {
  ChatMessage,
  EmbeddingRequest,
  EmbeddingResult,
  FinishReason,
  GenerationRequest,
  ModelStatus,
  ResponseFormat,
  Sampling,
  TokenLogprob,
  ToolCall,
  ToolChoice,
  Usage,
} from "../../inference/types";
import type { Caller } from "../../caller/caller";
import type { ChatCompletionRequest, CompletionRequest, EmbeddingRequestBody } from "./model";

/**
 * OpenAI JSON <-> the engine's types, in both directions. Everything the engine sees is built here
 * and everything a client reads is shaped here; the engine never sees a wire format.
 */

/** What a request carries besides its body. */
export interface RequestContext {
  requestId: string;
  caller: Caller;
  signal: AbortSignal;
  waitForModel: boolean;
  /** From `X-Enclave-Speculative`; generation only. */
  speculative?: "auto" | "on" | "off";
}

/** OpenAI's default max_tokens for /v1/completions (chat has none). */
export const COMPLETIONS_DEFAULT_MAX_TOKENS = 16;

type SamplingFields = Pick<
  ChatCompletionRequest,
  "temperature" | "top_p" | "seed" | "stop" | "presence_penalty" | "frequency_penalty" | "logit_bias" | "top_k" | "min_p" | "repeat_penalty" | "repetition_penalty"
>;

function toSampling(body: SamplingFields, maxTokens: number | null): Sampling {
  const stop = body.stop == null ? [] : typeof body.stop === "string" ? [body.stop] : body.stop;
  const repeatPenalty = body.repeat_penalty ?? body.repetition_penalty;
  return {
    maxTokens,
    // OpenAI's defaults, so a client that sets nothing gets what it would get there.
    temperature: body.temperature ?? 1,
    topP: body.top_p ?? 1,
    ...(body.seed != null && { seed: body.seed }),
    // An empty stop string would end every generation at once; it cannot be meant.
    stop: stop.filter((s) => s !== ""),
    presencePenalty: body.presence_penalty ?? 0,
    frequencyPenalty: body.frequency_penalty ?? 0,
    logitBias: body.logit_bias ?? {},
    // llama-server's samplers: set only when asked for, so a request without them samples as before.
    ...(body.top_k != null && body.top_k > 0 && { topK: body.top_k }),
    ...(body.min_p != null && body.min_p > 0 && { minP: body.min_p }),
    ...(repeatPenalty != null && { repeatPenalty }),
  };
}

function toMessage(message: ChatCompletionRequest["messages"][number]): ChatMessage {
  switch (message.role) {
    case "system":
    case "developer":
      return { role: "system", content: message.content };
    case "user":
      return { role: "user", content: message.content };
    case "assistant": {
      const toolCalls = (message.tool_calls ?? []).map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments }));
      return { role: "assistant", content: message.content ?? "", ...(toolCalls.length > 0 && { toolCalls }) };
    }
    case "tool":
      return { role: "tool", content: message.content, toolCallId: message.tool_call_id };
  }
}

function toResponseFormat(format: ChatCompletionRequest["response_format"]): ResponseFormat {
  if (format == null || format.type === "text") return { type: "text" };
  if (format.type === "json_object") return { type: "json_object" };
  return { type: "json_schema", name: format.json_schema.name, schema: format.json_schema.schema ?? {} };
}

export function chatToGeneration(body: ChatCompletionRequest, context: RequestContext): GenerationRequest {
  const tools = (body.tools ?? []).map(({ function: f }) => ({
    name: f.name,
    ...(f.description != null && { description: f.description }),
    ...(f.parameters != null && { parameters: f.parameters }),
  }));
  const choice = body.tool_choice;
  const toolChoice: ToolChoice =
    tools.length === 0 ? "none" : choice == null ? "auto" : typeof choice === "string" ? choice : { name: choice.function.name };
  return {
    ...context,
    model: body.model,
    input: { kind: "chat", messages: body.messages.map(toMessage), tools, toolChoice },
    sampling: toSampling(body, body.max_completion_tokens ?? body.max_tokens ?? null),
    responseFormat: toResponseFormat(body.response_format),
    topLogprobs: body.logprobs ? (body.top_logprobs ?? 0) : null,
    ...(body.n != null && body.n > 1 && { choices: body.n }),
  };
}

export function completionToGeneration(body: CompletionRequest, context: RequestContext): GenerationRequest {
  return {
    ...context,
    model: body.model,
    input: { kind: "text", prompt: body.prompt },
    sampling: toSampling(body, body.max_tokens ?? COMPLETIONS_DEFAULT_MAX_TOKENS),
    responseFormat: { type: "text" },
    topLogprobs: body.logprobs ?? null,
    ...(body.n != null && body.n > 1 && { choices: body.n }),
  };
}

export function embeddingToRequest(body: EmbeddingRequestBody, { speculative: _speculative, ...context }: RequestContext): EmbeddingRequest {
  return { ...context, model: body.model, inputs: body.input };
}

// ---- responses ------------------------------------------------------------------------------

export const chatCompletionId = (requestId: string) => `chatcmpl-${requestId}`;
export const completionId = (requestId: string) => `cmpl-${requestId}`;

/** What a response needs to know about its request. */
export interface ResponseMeta {
  requestId: string;
  model: string;
  /** Unix seconds. */
  created: number;
}

/** One answer of a generation. */
export interface GeneratedChoice {
  text: string;
  /** A reasoning model's thoughts, apart from the text; absent when it had none. */
  reasoning?: string;
  logprobs: TokenLogprob[];
  finishReason: FinishReason;
  toolCalls: ToolCall[];
  /** The stop string that ended the text, when the engine knows it (Anthropic's `stop_sequence`). */
  stopSequence?: string;
}

/** A generation, gathered from the engine's events: choice 0's fields, the usage of all, and every choice (OpenAI's `n`). */
export interface Generation extends GeneratedChoice {
  usage: Usage;
  choices: GeneratedChoice[];
}

export function usageJson(usage: Usage) {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
    // Only where the engine keeps a prompt cache; cached tokens are part of prompt_tokens, as in OpenAI's API.
    ...(usage.cachedTokens != null && { prompt_tokens_details: { cached_tokens: usage.cachedTokens } }),
  };
}

const utf8 = new TextEncoder();
const bytes = (token: string) => Array.from(utf8.encode(token));

/** Chat's logprobs object: { content: [...], refusal: null }. */
export function chatLogprobsJson(logprobs: TokenLogprob[]) {
  return {
    content: logprobs.map((t) => ({
      token: t.token,
      logprob: t.logprob,
      bytes: bytes(t.token),
      top_logprobs: t.top.map((alt) => ({ token: alt.token, logprob: alt.logprob, bytes: bytes(alt.token) })),
    })),
    refusal: null,
  };
}

/** The legacy completions logprobs object; `offset` is where the first token starts in the text. */
export function completionLogprobsJson(logprobs: TokenLogprob[], offset: number) {
  const textOffset: number[] = [];
  let at = offset;
  for (const t of logprobs) {
    textOffset.push(at);
    at += t.token.length;
  }
  return {
    tokens: logprobs.map((t) => t.token),
    token_logprobs: logprobs.map((t) => t.logprob),
    top_logprobs: logprobs.map((t) => Object.fromEntries(t.top.map((alt) => [alt.token, alt.logprob]))),
    text_offset: textOffset,
  };
}

export function toolCallsJson(toolCalls: ToolCall[]) {
  return toolCalls.map((c) => ({ id: c.id, type: "function" as const, function: { name: c.name, arguments: c.arguments } }));
}

function chatChoiceJson(choice: GeneratedChoice, index: number, wantLogprobs: boolean) {
  const hasToolCalls = choice.toolCalls.length > 0;
  return {
    index,
    message: {
      role: "assistant" as const,
      // With tool calls, content is null unless the model also wrote text beside them.
      content: hasToolCalls && choice.text === "" ? null : choice.text,
      // llama-server's and DeepSeek's field for thoughts.
      ...(choice.reasoning != null && { reasoning_content: choice.reasoning }),
      ...(hasToolCalls && { tool_calls: toolCallsJson(choice.toolCalls) }),
      refusal: null,
    },
    logprobs: wantLogprobs ? chatLogprobsJson(choice.logprobs) : null,
    finish_reason: choice.finishReason,
  };
}

export function chatCompletionJson(generation: Generation, meta: ResponseMeta, wantLogprobs: boolean) {
  return {
    id: chatCompletionId(meta.requestId),
    object: "chat.completion" as const,
    created: meta.created,
    model: meta.model,
    choices: generation.choices.map((choice, index) => chatChoiceJson(choice, index, wantLogprobs)),
    usage: usageJson(generation.usage),
  };
}

/** Completions has no tool calls; a text prompt cannot finish with one. */
export const completionFinishReason = (reason: FinishReason) => (reason === "tool_calls" ? "stop" : reason);

export function textCompletionJson(generation: Generation, meta: ResponseMeta, wantLogprobs: boolean, promptLength: number) {
  return {
    id: completionId(meta.requestId),
    object: "text_completion" as const,
    created: meta.created,
    model: meta.model,
    choices: generation.choices.map((choice, index) => ({
      text: choice.text,
      index,
      logprobs: wantLogprobs ? completionLogprobsJson(choice.logprobs, promptLength) : null,
      finish_reason: completionFinishReason(choice.finishReason),
    })),
    usage: usageJson(generation.usage),
  };
}

/** float32 little-endian, base64: what OpenAI's SDKs decode. */
function base64Vector(vector: number[]): string {
  const view = new DataView(new ArrayBuffer(vector.length * 4));
  vector.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return Buffer.from(view.buffer).toString("base64");
}

export function embeddingListJson(result: EmbeddingResult, model: string, encoding: "float" | "base64") {
  return {
    object: "list" as const,
    data: result.vectors.map((vector, index) => ({
      object: "embedding" as const,
      index,
      embedding: encoding === "base64" ? base64Vector(vector) : vector,
    })),
    model,
    usage: { prompt_tokens: result.promptTokens, total_tokens: result.promptTokens },
  };
}

export function modelJson(model: ModelStatus) {
  return { id: model.id, object: "model" as const, created: model.created, owned_by: "enclave" };
}

export function modelListJson(models: ModelStatus[]) {
  return { object: "list" as const, data: models.map(modelJson) };
}
