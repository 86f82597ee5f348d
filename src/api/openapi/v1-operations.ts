import { z } from "zod";
import { CountTokensRequest, MessagesRequest } from "../anthropic/model";
import { ChatCompletionRequest, CompletionRequest, EmbeddingRequestBody } from "../openai/model";
import { ResponsesRequest } from "../responses/model";
import type { ApiOperations } from "./api-operation";

const int = z.number().int();
const usage = z.looseObject({ prompt_tokens: int, completion_tokens: int, total_tokens: int });
const finishReason = z.enum(["stop", "length", "tool_calls"]);
const toolCall = z.looseObject({ id: z.string(), type: z.literal("function"), function: z.looseObject({ name: z.string(), arguments: z.string().describe("JSON text") }) });

const ModelObject = z.looseObject({ id: z.string(), object: z.literal("model"), created: int, owned_by: z.string() }).meta({ id: "Model" });

const ChatCompletion = z
  .looseObject({
    id: z.string(),
    object: z.literal("chat.completion"),
    created: int,
    model: z.string(),
    choices: z.array(
      z.looseObject({
        index: int,
        message: z.looseObject({ role: z.literal("assistant"), content: z.string().nullable(), refusal: z.string().nullable().optional(), tool_calls: z.array(toolCall).optional() }),
        logprobs: z.looseObject({}).nullable(),
        finish_reason: finishReason,
      }),
    ),
    usage,
  })
  .meta({ id: "ChatCompletion" });

const TextCompletion = z
  .looseObject({
    id: z.string(),
    object: z.literal("text_completion"),
    created: int,
    model: z.string(),
    choices: z.array(z.looseObject({ index: int, text: z.string(), logprobs: z.looseObject({}).nullable(), finish_reason: z.enum(["stop", "length"]) })),
    usage,
  })
  .meta({ id: "TextCompletion" });

const Embeddings = z
  .looseObject({
    object: z.literal("list"),
    data: z.array(z.looseObject({ object: z.literal("embedding"), index: int, embedding: z.union([z.array(z.number()), z.string().describe("base64 float32 little-endian")]) })),
    model: z.string(),
    usage: z.looseObject({ prompt_tokens: int, total_tokens: int }),
  })
  .meta({ id: "Embeddings" });

const ResponseObject = z
  .looseObject({
    id: z.string(),
    object: z.literal("response"),
    created_at: int,
    status: z.enum(["completed", "incomplete", "failed", "in_progress"]),
    model: z.string(),
    output: z.array(z.looseObject({ id: z.string(), type: z.enum(["reasoning", "message", "function_call"]) })),
    usage: z.looseObject({ input_tokens: int, output_tokens: int, total_tokens: int }).nullable(),
    previous_response_id: z.string().nullable(),
    store: z.boolean(),
  })
  .meta({ id: "Response" });

const Message = z
  .looseObject({
    id: z.string(),
    type: z.literal("message"),
    role: z.literal("assistant"),
    model: z.string(),
    content: z.array(z.looseObject({ type: z.enum(["thinking", "text", "tool_use"]) })),
    stop_reason: z.enum(["end_turn", "max_tokens", "stop_sequence", "tool_use"]),
    stop_sequence: z.string().nullable(),
    usage: z.looseObject({ input_tokens: int, output_tokens: int }),
  })
  .meta({ id: "Message" });

/** The OpenAI-, Responses- and Anthropic-compatible operations under /v1. */
export const v1Operations: ApiOperations = {
  "GET /v1/models": { tag: "OpenAI", summary: "List the models this key may use", response: z.looseObject({ object: z.literal("list"), data: z.array(ModelObject) }) },
  "GET /v1/models/:id": { tag: "OpenAI", summary: "Get a model", response: ModelObject },
  "POST /v1/chat/completions": { tag: "OpenAI", summary: "Create a chat completion", body: ChatCompletionRequest, response: ChatCompletion, streams: true },
  "POST /v1/completions": { tag: "OpenAI", summary: "Create a text completion", body: CompletionRequest, response: TextCompletion, streams: true },
  "POST /v1/embeddings": { tag: "OpenAI", summary: "Create embeddings", body: EmbeddingRequestBody, response: Embeddings },
  "POST /v1/responses": { tag: "Responses", summary: "Create a response", body: ResponsesRequest, response: ResponseObject, streams: true },
  "GET /v1/responses/:id": { tag: "Responses", summary: "Get a stored response", response: ResponseObject },
  "DELETE /v1/responses/:id": {
    tag: "Responses",
    summary: "Delete a stored response",
    response: z.looseObject({ id: z.string(), object: z.literal("response"), deleted: z.literal(true) }),
  },
  "GET /v1/responses/:id/input_items": {
    tag: "Responses",
    summary: "List a stored response's input items",
    query: z.strictObject({ order: z.enum(["asc", "desc"]).optional().describe("default desc") }),
    response: z.looseObject({ object: z.literal("list"), data: z.array(z.looseObject({ type: z.string() })), first_id: z.string().nullable(), last_id: z.string().nullable(), has_more: z.boolean() }),
  },
  "POST /v1/messages": { tag: "Anthropic", summary: "Create a message (Anthropic Messages API)", body: MessagesRequest, response: Message, streams: true },
  "POST /v1/messages/count_tokens": { tag: "Anthropic", summary: "Count a message's input tokens", body: CountTokensRequest, response: z.looseObject({ input_tokens: int }) },
};
