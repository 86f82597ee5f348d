import type { ChatMessage, GenerationRequest, ResponseFormat, ToolCall, ToolChoice, Usage } from "../../inference/types";
import type { Generation, RequestContext } from "../openai/translate";
import type { ResponsesInputItem, ResponsesRequest } from "./model";

/**
 * Responses API JSON <-> the engine's types. The request becomes the same chat GenerationRequest
 * that /v1/chat/completions builds, so both answer alike; the answer is shaped as a `response`.
 */

/** The items of `input` as chat history: a function_call joins the assistant turn before it, as chat's tool_calls do. */
function toMessages(items: ResponsesInputItem[]): ChatMessage[] {
  const messages: ChatMessage[] = [];
  for (const item of items) {
    // An earlier answer's thoughts: the served models do not see them again.
    if (item.type === "reasoning") continue;
    if (item.type === "message") {
      const role = item.role === "developer" || item.role === "system" ? "system" : item.role;
      messages.push({ role, content: item.content });
    } else if (item.type === "function_call_output") {
      messages.push({ role: "tool", content: item.output, toolCallId: item.call_id });
    } else {
      const call: ToolCall = { id: item.call_id, name: item.name, arguments: item.arguments };
      const last = messages.at(-1);
      if (last?.role === "assistant") last.toolCalls = [...(last.toolCalls ?? []), call];
      else messages.push({ role: "assistant", content: "", toolCalls: [call] });
    }
  }
  return messages;
}

function toResponseFormat(format: NonNullable<ResponsesRequest["text"]>["format"]): ResponseFormat {
  if (format == null || format.type === "text") return { type: "text" };
  if (format.type === "json_object") return { type: "json_object" };
  return { type: "json_schema", name: format.name, schema: format.schema };
}

/** The conversation a request adds, without its instructions (which a later `previous_response_id` does not carry over, as at OpenAI). */
export function historyOf(body: ResponsesRequest): ChatMessage[] {
  return typeof body.input === "string" ? [{ role: "user", content: body.input }] : toMessages(body.input);
}

/** The answer as the assistant turn a chained request continues from. */
export function outputTurn(generation: Pick<Generation, "text" | "toolCalls">): ChatMessage {
  return { role: "assistant", content: generation.text, ...(generation.toolCalls.length > 0 && { toolCalls: generation.toolCalls }) };
}

/** `input` as the items GET /v1/responses/{id}/input_items lists, each with an id. */
export function inputItemsJson(body: ResponsesRequest, requestId: string): Record<string, unknown>[] {
  const items = typeof body.input === "string" ? [{ type: "message" as const, role: "user" as const, content: body.input }] : body.input;
  return items.map((item, index) => {
    const prefixes = { message: "msg", function_call: "fc", function_call_output: "fco", reasoning: "rs" } as const;
    const id = item.id ?? `${prefixes[item.type]}_${requestId}_in${index}`;
    if (item.type === "message") {
      const part = item.role === "assistant" ? "output_text" : "input_text";
      return { id, type: "message", role: item.role, status: "completed", content: [{ type: part, text: item.content }] };
    }
    if (item.type === "function_call") return { id, type: "function_call", status: "completed", call_id: item.call_id, name: item.name, arguments: item.arguments };
    // Its thoughts were dropped on the way in: the item is listed, their text is not kept.
    if (item.type === "reasoning") return { id, type: "reasoning", status: "completed", summary: [] };
    return { id, type: "function_call_output", status: "completed", call_id: item.call_id, output: item.output };
  });
}

/** `previous` is the stored conversation a `previous_response_id` continues; instructions come first, as a system turn. */
export function responsesToGeneration(body: ResponsesRequest, context: RequestContext, previous: ChatMessage[] = []): GenerationRequest {
  const tools = (body.tools ?? []).map((t) => ({
    name: t.name,
    ...(t.description != null && { description: t.description }),
    ...(t.parameters != null && { parameters: t.parameters }),
  }));
  const choice = body.tool_choice;
  const toolChoice: ToolChoice = tools.length === 0 ? "none" : choice == null ? "auto" : typeof choice === "string" ? choice : { name: choice.name };
  const history = [...previous, ...historyOf(body)];
  const messages: ChatMessage[] = body.instructions != null ? [{ role: "system", content: body.instructions }, ...history] : history;
  return {
    ...context,
    model: body.model,
    input: { kind: "chat", messages, tools, toolChoice },
    // OpenAI's defaults; the Responses API has no stop, penalties or logit bias.
    sampling: {
      maxTokens: body.max_output_tokens ?? null,
      temperature: body.temperature ?? 1,
      topP: body.top_p ?? 1,
      stop: [],
      presencePenalty: 0,
      frequencyPenalty: 0,
      logitBias: {},
    },
    responseFormat: toResponseFormat(body.text?.format),
    topLogprobs: null,
  };
}

// ---- the response object ---------------------------------------------------------------------

export interface ResponseMeta {
  requestId: string;
  /** Unix seconds. */
  createdAt: number;
  /** Whether this answer is stored (the client asked `store` and the retention policy allows it). */
  stored: boolean;
}

export const responseId = (requestId: string) => `resp_${requestId}`;
export const messageItemId = (requestId: string) => `msg_${requestId}`;
export const functionCallItemId = (requestId: string, index: number) => `fc_${requestId}_${index}`;
export const reasoningItemId = (requestId: string) => `rs_${requestId}`;

export type ResponseStatus = "in_progress" | "completed" | "incomplete" | "failed";

export function responseUsageJson(usage: Usage) {
  return {
    input_tokens: usage.promptTokens,
    // Part of input_tokens, as in OpenAI's API.
    input_tokens_details: { cached_tokens: usage.cachedTokens ?? 0 },
    output_tokens: usage.completionTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage.promptTokens + usage.completionTokens,
  };
}

export function outputTextJson(text: string) {
  return { type: "output_text" as const, text, annotations: [], logprobs: [] };
}

export function messageItemJson(requestId: string, text: string, status: "in_progress" | "completed" | "incomplete") {
  return {
    id: messageItemId(requestId),
    type: "message" as const,
    status,
    role: "assistant" as const,
    content: status === "in_progress" ? [] : [outputTextJson(text)],
  };
}

export function reasoningTextJson(text: string) {
  return { type: "reasoning_text" as const, text };
}

/**
 * A reasoning model's thoughts as a `reasoning` item: the raw text as `content` (reasoning_text),
 * as open-weight models' thoughts are returned; `summary` stays empty, there is no summarizer.
 */
export function reasoningItemJson(requestId: string, text: string, status: "in_progress" | "completed" | "incomplete") {
  return {
    id: reasoningItemId(requestId),
    type: "reasoning" as const,
    status,
    summary: [],
    content: status === "in_progress" ? [] : [reasoningTextJson(text)],
  };
}

export function functionCallItemJson(requestId: string, call: ToolCall, index: number, status: "in_progress" | "completed" | "incomplete") {
  return {
    id: functionCallItemId(requestId, index),
    type: "function_call" as const,
    status,
    call_id: call.id,
    name: call.name,
    arguments: status === "in_progress" ? "" : call.arguments,
  };
}

/**
 * Which output item max_output_tokens cut: the last function call when there are calls (the text
 * before them was whole), else the message. `callIndex` null: the message.
 */
export function itemStatus(generation: Pick<Generation, "toolCalls" | "finishReason">, callIndex: number | null): "completed" | "incomplete" {
  if (generation.finishReason !== "length") return "completed";
  const last = generation.toolCalls.length - 1;
  return (callIndex ?? -1) === last ? "incomplete" : "completed";
}

/**
 * What the answer says about the generation: the model's thoughts when it had any, a message when
 * there is text (or nothing else), then each function call. Thoughts cut by max_output_tokens
 * leave the reasoning item incomplete (and the empty message after it).
 */
export function outputItemsJson(requestId: string, generation: Pick<Generation, "text" | "reasoning" | "toolCalls" | "finishReason">) {
  const calls = generation.toolCalls.map((call, index) => functionCallItemJson(requestId, call, index, itemStatus(generation, index)));
  const messageStatus = itemStatus(generation, null);
  const hasMessage = generation.text !== "" || calls.length === 0;
  const thoughts = generation.reasoning ?? "";
  const reasoning = thoughts !== "" ? [reasoningItemJson(requestId, thoughts, reasoningStatus(generation))] : [];
  return [...reasoning, ...(hasMessage ? [messageItemJson(requestId, generation.text, messageStatus)] : []), ...calls];
}

/** The thoughts were cut when max_output_tokens ended the generation before any answer came. */
export function reasoningStatus(generation: Pick<Generation, "text" | "toolCalls" | "finishReason">): "completed" | "incomplete" {
  return generation.finishReason === "length" && generation.text === "" && generation.toolCalls.length === 0 ? "incomplete" : "completed";
}

/**
 * The `response` object. The request's settings are echoed as OpenAI echoes them (its defaults
 * where unset); `store` says whether it was kept, which only the retention policy allows.
 */
export function responseJson(
  body: ResponsesRequest,
  meta: ResponseMeta,
  state: { status: ResponseStatus; output: unknown[]; usage: Usage | null; error?: { code: string; message: string } },
) {
  const choice = body.tool_choice;
  return {
    id: responseId(meta.requestId),
    object: "response" as const,
    created_at: meta.createdAt,
    status: state.status,
    background: false,
    error: state.error ?? null,
    incomplete_details: state.status === "incomplete" ? { reason: "max_output_tokens" as const } : null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    model: body.model,
    output: state.output,
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: body.previous_response_id ?? null,
    reasoning: { effort: null, summary: null },
    store: meta.stored,
    temperature: body.temperature ?? 1,
    text: { format: body.text?.format ?? { type: "text" } },
    tool_choice: choice == null ? "auto" : typeof choice === "string" ? choice : { type: "function", name: choice.name },
    tools: (body.tools ?? []).map((t) => ({
      type: "function" as const,
      name: t.name,
      description: t.description ?? null,
      parameters: t.parameters ?? null,
      strict: t.strict ?? true,
    })),
    top_p: body.top_p ?? 1,
    truncation: "disabled" as const,
    usage: state.usage != null ? responseUsageJson(state.usage) : null,
    user: body.user ?? null,
    metadata: body.metadata ?? {},
  };
}

/** The finished generation as a complete, non-streamed response. */
export function finishedResponseJson(body: ResponsesRequest, meta: ResponseMeta, generation: Generation) {
  const status = generation.finishReason === "length" ? "incomplete" : "completed";
  return responseJson(body, meta, { status, output: outputItemsJson(meta.requestId, generation), usage: generation.usage });
}
