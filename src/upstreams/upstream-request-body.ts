import type { ChatMessage, EmbeddingRequest, GenerationRequest, ResponseFormat, Sampling, ToolChoice } from "../inference/types";

/**
 * The engine's request back as OpenAI JSON, for an upstream: the inverse of the API's
 * translation. Generation always streams with usage, so tokens pass through as they come and the
 * meter still gets its counts. Only what is set goes out; the upstream applies its own defaults.
 */
export function upstreamRequestBody(request: GenerationRequest): { path: "/chat/completions" | "/completions"; body: Record<string, unknown> } {
  const common = { model: request.model, stream: true, stream_options: { include_usage: true }, ...samplingJson(request.sampling) };
  if (request.input.kind === "text") {
    return {
      path: "/completions",
      body: { ...common, prompt: request.input.prompt, ...(request.topLogprobs != null && { logprobs: request.topLogprobs }) },
    };
  }
  const { messages, tools, toolChoice } = request.input;
  return {
    path: "/chat/completions",
    body: {
      ...common,
      messages: messages.map(messageJson),
      ...(tools.length > 0 && {
        tools: tools.map((tool) => ({
          type: "function",
          function: {
            name: tool.name,
            ...(tool.description != null && { description: tool.description }),
            ...(tool.parameters != null && { parameters: tool.parameters }),
          },
        })),
        tool_choice: toolChoiceJson(toolChoice),
      }),
      ...responseFormatJson(request.responseFormat),
      ...(request.topLogprobs != null && { logprobs: true, top_logprobs: request.topLogprobs }),
    },
  };
}

export function upstreamEmbeddingBody(request: EmbeddingRequest): Record<string, unknown> {
  return { model: request.model, input: request.inputs, encoding_format: "float" };
}

function samplingJson(sampling: Sampling): Record<string, unknown> {
  return {
    ...(sampling.maxTokens != null && { max_tokens: sampling.maxTokens }),
    temperature: sampling.temperature,
    top_p: sampling.topP,
    ...(sampling.seed != null && { seed: sampling.seed }),
    ...(sampling.stop.length > 0 && { stop: sampling.stop }),
    ...(sampling.presencePenalty !== 0 && { presence_penalty: sampling.presencePenalty }),
    ...(sampling.frequencyPenalty !== 0 && { frequency_penalty: sampling.frequencyPenalty }),
    ...(Object.keys(sampling.logitBias).length > 0 && { logit_bias: sampling.logitBias }),
    // llama-server's samplers go on under its names, so one the upstream lacks is its 400, never dropped here.
    ...(sampling.topK != null && { top_k: sampling.topK }),
    ...(sampling.minP != null && { min_p: sampling.minP }),
    ...(sampling.repeatPenalty != null && { repeat_penalty: sampling.repeatPenalty }),
  };
}

function messageJson(message: ChatMessage): Record<string, unknown> {
  switch (message.role) {
    case "system":
    case "user":
      return { role: message.role, content: message.content };
    case "assistant":
      return {
        role: "assistant",
        content: message.content,
        ...(message.toolCalls != null &&
          message.toolCalls.length > 0 && {
            tool_calls: message.toolCalls.map((call) => ({ id: call.id, type: "function", function: { name: call.name, arguments: call.arguments } })),
          }),
      };
    case "tool":
      return { role: "tool", content: message.content, tool_call_id: message.toolCallId };
  }
}

function toolChoiceJson(choice: ToolChoice): unknown {
  return typeof choice === "string" ? choice : { type: "function", function: { name: choice.name } };
}

function responseFormatJson(format: ResponseFormat): Record<string, unknown> {
  switch (format.type) {
    case "text":
      return {};
    case "json_object":
      return { response_format: { type: "json_object" } };
    case "json_schema":
      return { response_format: { type: "json_schema", json_schema: { name: format.name, schema: format.schema } } };
  }
}
