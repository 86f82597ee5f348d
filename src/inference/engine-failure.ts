import type { EmbeddingRequest, GenerationRequest } from "./types";

/** A run of this many characters found in the request's text is taken for the request's text. */
const WINDOW = 8;
/** Shorter texts are removed only where they appear whole, and only from this length. */
const MIN_WHOLE = 4;
const MAX_MESSAGE = 300;
const REMOVED = "[removed]";

/**
 * The `err` of an engine failure's log line: the error's class and llama.cpp's (or
 * node-llama-cpp's) message with every quoted span and every run of the request's own text
 * removed, first line only. The class alone ("Error") tells an admin nothing; the raw message
 * can quote a prompt, a tool's arguments or a model's output.
 */
export function engineFailure(error: unknown, requestTexts: readonly string[] = []): { type: string; message: string } {
  const type = error instanceof Error ? error.name : typeof error;
  const raw = error instanceof Error ? error.message : typeof error === "string" ? error : "";
  const firstLine = raw.split("\n", 1)[0]!.trim();
  // Quoted text is what a message quotes from its input; an apostrophe inside a word is not a quote.
  const unquoted = firstLine.replace(/"[^"]*"?|(?<![A-Za-z])'[^']*'?|`[^`]*`?/g, `"${REMOVED}"`);
  const message = withoutTexts(unquoted, requestTexts.filter((text) => text.length >= MIN_WHOLE));
  return { type, message: message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}...` : message };
}

/** Every client-supplied string of a generation or embedding request: what must not reach a log. */
export function requestTexts(request: GenerationRequest | EmbeddingRequest): string[] {
  if ("inputs" in request) return request.inputs;
  const texts = [...request.sampling.stop];
  if (request.responseFormat.type === "json_schema") texts.push(request.responseFormat.name, JSON.stringify(request.responseFormat.schema));
  if (request.input.kind === "text") return [...texts, request.input.prompt];
  for (const message of request.input.messages) {
    texts.push(message.content);
    if (message.role === "assistant") for (const call of message.toolCalls ?? []) texts.push(call.name, call.arguments);
  }
  for (const tool of request.input.tools) texts.push(tool.name, tool.description ?? "", JSON.stringify(tool.parameters ?? {}));
  return texts;
}

/** `message` with each run of WINDOW+ characters that occurs in a text, and each whole text, replaced by REMOVED. */
function withoutTexts(message: string, texts: readonly string[]): string {
  if (texts.length === 0) return message;
  const removed = new Array<boolean>(message.length).fill(false);
  const mark = (start: number, length: number) => removed.fill(true, start, start + length);
  for (let at = 0; at + WINDOW <= message.length; at++) {
    const window = message.slice(at, at + WINDOW);
    if (texts.some((text) => text.includes(window))) mark(at, WINDOW);
  }
  for (const text of texts) {
    if (text.length >= WINDOW) continue;
    for (let at = message.indexOf(text); at !== -1; at = message.indexOf(text, at + 1)) mark(at, text.length);
  }
  let out = "";
  for (let at = 0; at < message.length; at++) {
    if (!removed[at]) out += message[at];
    else if (at === 0 || !removed[at - 1]) out += REMOVED;
  }
  return out;
}
