import type { ChatHistoryItem, ChatModelFunctionCall, ChatModelResponse } from "node-llama-cpp";
import type { ChatMessage } from "./types";

/**
 * OpenAI-style messages as node-llama-cpp's chat history, ending with the empty model turn to be
 * generated. A tool message becomes the result of the call it answers, because the chat
 * template renders a call and its result together.
 */
export function toChatHistory(messages: ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  const calls = new Map<string, ChatModelFunctionCall>();
  for (const message of messages) {
    switch (message.role) {
      case "system":
        history.push({ type: "system", text: message.content });
        break;
      case "user":
        history.push({ type: "user", text: message.content });
        break;
      case "assistant": {
        const response: ChatModelResponse["response"] = message.content.length > 0 ? [message.content] : [];
        for (const call of message.toolCalls ?? []) {
          const item: ChatModelFunctionCall = { type: "functionCall", name: call.name, params: parseArguments(call.arguments), result: undefined };
          calls.set(call.id, item);
          response.push(item);
        }
        history.push({ type: "model", response });
        break;
      }
      case "tool": {
        const call = calls.get(message.toolCallId);
        if (call != null) call.result = message.content;
        // A result for a call the history does not hold still reaches the model, as user text.
        else history.push({ type: "user", text: message.content });
        break;
      }
    }
  }
  history.push({ type: "model", response: [] });
  return history;
}

function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
