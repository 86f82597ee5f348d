import { Allow, parse as parsePartialJson } from "partial-json";
import type { ChatMessage, FinishReason, GenerationInput, GenerationRequest, ToolCall, ToolChoice, Usage } from "../../inference/types";
import type { Generation, RequestContext } from "../openai/translate";
import type { ContentBlock, CountTokensRequest, MessagesRequest } from "./model";

/**
 * Anthropic Messages JSON <-> the engine's types. The engine sees the same GenerationRequest a
 * chat completion makes; everything a Messages client reads is shaped here.
 */

type Prompt = Pick<CountTokensRequest, "system" | "messages" | "tools" | "tool_choice">;

const joinText = (parts: { text: string }[]) => parts.map((part) => part.text).join("\n");

/** tool_result content as the tool message's text. */
function toolResultText(content: Extract<ContentBlock, { type: "tool_result" }>["content"]): string {
  if (content == null) return "";
  return typeof content === "string" ? content : joinText(content);
}

/**
 * One Anthropic message as chat messages. A user turn's tool_result blocks become tool messages
 * and its text a user message, in the order they came; an assistant turn's tool_use blocks become
 * its tool calls (their `input` as JSON text). Thinking blocks are dropped.
 */
function toMessages(message: MessagesRequest["messages"][number]): ChatMessage[] {
  const { role, content } = message;
  if (typeof content === "string") return [{ role, content }];
  if (role === "assistant") {
    const texts = content.filter((b) => b.type === "text");
    const toolCalls: ToolCall[] = content
      .filter((b) => b.type === "tool_use")
      .map((b) => ({ id: b.id, name: b.name, arguments: JSON.stringify(b.input) }));
    return [{ role, content: joinText(texts), ...(toolCalls.length > 0 && { toolCalls }) }];
  }
  const out: ChatMessage[] = [];
  let texts: { text: string }[] = [];
  const flush = () => {
    if (texts.length > 0) out.push({ role: "user", content: joinText(texts) });
    texts = [];
  };
  for (const b of content) {
    if (b.type === "text") texts.push(b);
    else if (b.type === "tool_result") {
      flush();
      out.push({ role: "tool", content: toolResultText(b.content), toolCallId: b.tool_use_id });
    }
  }
  flush();
  // A user turn of only thinking blocks (not sent by real clients) still takes its place as a turn.
  return out.length > 0 ? out : [{ role: "user", content: "" }];
}

function toToolChoice(prompt: Prompt, hasTools: boolean): ToolChoice {
  const choice = prompt.tool_choice;
  if (!hasTools || choice?.type === "none") return "none";
  if (choice == null || choice.type === "auto") return "auto";
  if (choice.type === "any") return "required";
  return { name: choice.name };
}

export function promptToInput(prompt: Prompt): Extract<GenerationInput, { kind: "chat" }> {
  const tools = (prompt.tools ?? []).map((tool) => ({
    name: tool.name,
    ...(tool.description != null && { description: tool.description }),
    parameters: tool.input_schema,
  }));
  const system = prompt.system == null ? [] : [{ role: "system" as const, content: typeof prompt.system === "string" ? prompt.system : joinText(prompt.system) }];
  return { kind: "chat", messages: [...system, ...prompt.messages.flatMap(toMessages)], tools, toolChoice: toToolChoice(prompt, tools.length > 0) };
}

export function messagesToGeneration(body: MessagesRequest, context: RequestContext): GenerationRequest {
  return {
    ...context,
    model: body.model,
    input: promptToInput(body),
    sampling: {
      maxTokens: body.max_tokens,
      // Anthropic's defaults.
      temperature: body.temperature ?? 1,
      topP: body.top_p ?? 1,
      ...(body.top_k != null && body.top_k > 0 && { topK: body.top_k }),
      // An empty stop string would end every generation at once; it cannot be meant.
      stop: (body.stop_sequences ?? []).filter((s) => s !== ""),
      presencePenalty: 0,
      frequencyPenalty: 0,
      logitBias: {},
    },
    responseFormat: { type: "text" },
    topLogprobs: null,
  };
}

/** For count_tokens: the prompt as a generation would see it; nothing is generated. */
export function countTokensToGeneration(body: CountTokensRequest, context: RequestContext): GenerationRequest {
  return {
    ...context,
    model: body.model,
    input: promptToInput(body),
    sampling: { maxTokens: 1, temperature: 1, topP: 1, stop: [], presencePenalty: 0, frequencyPenalty: 0, logitBias: {} },
    responseFormat: { type: "text" },
    topLogprobs: null,
  };
}

// ---- responses ------------------------------------------------------------------------------

export const messageId = (requestId: string) => `msg_${requestId.replace(/^req_/, "")}`;

export type StopReason = "end_turn" | "max_tokens" | "stop_sequence" | "tool_use";

/** Which stop ended the generation: `stop_sequence` only when the engine names the one it hit. */
export function stopReasonOf(finishReason: FinishReason, stopSequence: string | undefined): { stop_reason: StopReason; stop_sequence: string | null } {
  if (finishReason === "tool_calls") return { stop_reason: "tool_use", stop_sequence: null };
  if (finishReason === "length") return { stop_reason: "max_tokens", stop_sequence: null };
  if (stopSequence != null) return { stop_reason: "stop_sequence", stop_sequence: stopSequence };
  return { stop_reason: "end_turn", stop_sequence: null };
}

/** Tool arguments as the `input` object; arguments that are not a JSON object (cut short) are kept as text. */
/**
 * A tool_use block's `input`. Arguments max_tokens cut are parsed as far as they go (an unclosed
 * string or object is closed where it stops), as Anthropic's own streaming clients parse
 * `partial_json`.
 */
export function toolInput(call: ToolCall): Record<string, unknown> {
  try {
    const parsed: unknown = parsePartialJson(call.arguments, Allow.ALL);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // Fall through: not JSON even in part.
  }
  return {};
}

/** Anthropic's tool_use ids start with `toolu_`; the engine's are OpenAI's `call_`. Either is opaque to the model. */
export function toolUseId(call: ToolCall): string {
  return call.id.startsWith("call_") ? `toolu_${call.id.slice("call_".length)}` : call.id;
}

export function usageJson(usage: Usage) {
  return {
    // Anthropic counts cache reads beside input_tokens, not in it: the total prompt is their sum.
    input_tokens: usage.promptTokens - (usage.cachedTokens ?? 0),
    output_tokens: usage.completionTokens,
    // The cache is written by every request as a side effect, never as a priced step of its own.
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: usage.cachedTokens ?? 0,
  };
}

export function toolUseBlockJson(call: ToolCall) {
  // Enclave runs no server tools: every call is the model's own ("direct").
  return { type: "tool_use" as const, id: toolUseId(call), caller: { type: "direct" as const }, name: call.name, input: toolInput(call) };
}

/**
 * What becomes of a reasoning model's thoughts: left out ("none", unless the request turned
 * thinking on, as at Anthropic), a thinking block with the text ("shown"), or one without it
 * ("omitted", for `display: "omitted"`).
 */
export type ThinkingDisplay = "none" | "shown" | "omitted";

export function thinkingDisplay(body: Pick<MessagesRequest, "thinking">): ThinkingDisplay {
  const type = body.thinking?.type;
  if (type !== "enabled" && type !== "adaptive") return "none";
  return body.thinking?.display === "omitted" ? "omitted" : "shown";
}

/**
 * Anthropic signs each thinking block so it can verify one passed back; these thoughts are not
 * Claude's and a passed-back block is dropped unread, so the signature is empty.
 */
export const THINKING_SIGNATURE = "";

export function thinkingBlockJson(thinking: string) {
  return { type: "thinking" as const, thinking, signature: THINKING_SIGNATURE };
}

export interface MessageMeta {
  requestId: string;
  model: string;
  thinking: ThinkingDisplay;
}

export function messageJson(generation: Generation & { stopSequence?: string }, meta: MessageMeta) {
  const thoughts = generation.reasoning ?? "";
  const content = [
    ...(meta.thinking !== "none" && thoughts !== "" ? [thinkingBlockJson(meta.thinking === "shown" ? thoughts : "")] : []),
    ...(generation.text !== "" || generation.toolCalls.length === 0 ? [{ type: "text" as const, text: generation.text, citations: null }] : []),
    ...generation.toolCalls.map(toolUseBlockJson),
  ];
  return {
    id: messageId(meta.requestId),
    type: "message" as const,
    role: "assistant" as const,
    model: meta.model,
    content,
    ...stopReasonOf(generation.finishReason, generation.stopSequence),
    usage: usageJson(generation.usage),
  };
}
