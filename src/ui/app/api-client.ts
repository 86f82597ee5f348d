import { plainError } from "./plain-error";
import { createSseParser } from "./sse-lines";

/** A failed call: `message` is for the page, in plain words; status 0 means no answer at all. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | null,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface ChatStreamRequest {
  model: string;
  messages: ChatMessage[];
  temperature: number;
  max_tokens: number;
  /** Sent as `X-Enclave-Speculative`: "on" drafts this request, "off" does not; absent: the server decides. */
  speculative?: "on" | "off";
  signal?: AbortSignal;
  onText: (text: string) => void;
  /** A reasoning model's thoughts (`reasoning_content`) as they arrive. */
  onReasoning?: (text: string) => void;
}

export interface ChatStreamResult {
  text: string;
  /** The model's thoughts, apart from its answer; "" when it had none. */
  reasoning: string;
  completionTokens: number | null;
  promptTokens: number | null;
  /** From sending the request to the last token, in milliseconds. */
  totalMs: number;
  /** From sending the request to the first token. */
  firstTokenMs: number | null;
  finishReason: string | null;
}

/**
 * The console's only way to the server: same-origin `fetch` to the public `/admin` and `/v1`
 * APIs with the signed-in key as a bearer token. No cookies are sent or set (credentials: omit).
 */
export function createApiClient(key: string, onUnauthorized: () => void) {
  async function send(method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(path, {
        method,
        credentials: "omit",
        cache: "no-store",
        signal,
        headers: { authorization: `Bearer ${key}`, ...(body !== undefined && { "content-type": "application/json" }), ...extraHeaders },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      if ((error as Error)?.name === "AbortError") throw error;
      throw new ApiError(plainError(0, null), 0, null);
    }
    if (!response.ok) {
      const parsed = await response.json().catch(() => null);
      if (response.status === 401) onUnauthorized();
      const code = (parsed as { error?: { code?: string } } | null)?.error?.code ?? null;
      throw new ApiError(plainError(response.status, parsed, response.headers.get("retry-after")), response.status, code);
    }
    return response;
  }

  const json = async <T>(method: string, path: string, body?: unknown): Promise<T> => (await send(method, path, body)).json() as Promise<T>;

  return {
    get: <T>(path: string) => json<T>("GET", path),
    post: <T>(path: string, body: unknown) => json<T>("POST", path, body),
    patch: <T>(path: string, body: unknown) => json<T>("PATCH", path, body),
    delete: <T>(path: string) => json<T>("DELETE", path),
    /** `GET /metrics` style text, or JSON; null when the route does not exist on this server. */
    async optional<T>(path: string): Promise<T | null> {
      try {
        return await json<T>("GET", path);
      } catch (error) {
        if (error instanceof ApiError && error.status === 404 && error.code !== "model_not_found") return null;
        throw error;
      }
    },

    /** A streamed chat completion, text handed to `onText` as it arrives. */
    async chatStream(request: ChatStreamRequest): Promise<ChatStreamResult> {
      const started = performance.now();
      const headers: Record<string, string> = request.speculative != null ? { "x-enclave-speculative": request.speculative } : {};
      const response = await send(
        "POST",
        "/v1/chat/completions",
        {
          model: request.model,
          messages: request.messages,
          temperature: request.temperature,
          max_tokens: request.max_tokens,
          stream: true,
          stream_options: { include_usage: true },
        },
        headers,
        request.signal,
      );
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      const parser = createSseParser();
      const result: ChatStreamResult = { text: "", reasoning: "", completionTokens: null, promptTokens: null, totalMs: 0, firstTokenMs: null, finishReason: null };
      let firstAt: number | null = null;
      let lastAt = started;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        for (const payload of parser.push(value)) {
          if (payload === "[DONE]") continue;
          const chunk = JSON.parse(payload) as {
            choices?: { delta?: { content?: string | null; reasoning_content?: string | null }; finish_reason?: string | null }[];
            usage?: { prompt_tokens: number; completion_tokens: number } | null;
            error?: { message?: string };
          };
          if (chunk.error != null) throw new ApiError(`The model stopped with an error: ${chunk.error.message ?? "unknown error"}.`, 500, null);
          const choice = chunk.choices?.[0];
          const text = choice?.delta?.content ?? "";
          const thought = choice?.delta?.reasoning_content ?? "";
          if (thought !== "") {
            // A thought is a token too: the first one is the first token.
            firstAt ??= performance.now();
            lastAt = performance.now();
            result.reasoning += thought;
            request.onReasoning?.(thought);
          }
          if (text !== "") {
            const now = performance.now();
            firstAt ??= now;
            lastAt = now;
            result.text += text;
            request.onText(text);
          }
          if (choice?.finish_reason != null) result.finishReason = choice.finish_reason;
          if (chunk.usage != null) {
            result.completionTokens = chunk.usage.completion_tokens;
            result.promptTokens = chunk.usage.prompt_tokens;
          }
        }
      }
      result.firstTokenMs = firstAt == null ? null : firstAt - started;
      result.totalMs = lastAt - started;
      return result;
    },
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;
