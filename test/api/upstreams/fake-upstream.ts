import type { Server } from "bun";

export interface ReceivedRequest {
  path: string;
  authorization: string | null;
  body: any;
}

export interface FakeUpstreamOptions {
  /** The text deltas a chat or completion streams, one chunk each; default ["Hello", " from", " upstream", "!"]. */
  tokens?: string[];
  /** Pause before each chunk; default 0. */
  tokenDelayMs?: number;
  /** Answer every request with this status and an OpenAI error body instead. */
  status?: number;
  /** Sends the first token, then waits for this before the rest: proves the proxy passes tokens on as they come. */
  holdAfterFirst?: Promise<void>;
}

/**
 * A small OpenAI-compatible server on loopback, standing in for vLLM or llama-server: streams
 * chat and text completions chunk by chunk (usage when asked), embeds, and records what it got;
 * answers the readiness probe (GET /v1/models) without recording it.
 */
export function startFakeUpstream(options: FakeUpstreamOptions = {}) {
  const tokens = options.tokens ?? ["Hello", " from", " upstream", "!"];
  const received: ReceivedRequest[] = [];
  const state = { status: options.status };
  const encoder = new TextEncoder();

  const server: Server<unknown> = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const path = new URL(request.url).pathname;
      if (request.method === "GET" && path === "/v1/models") return Response.json({ object: "list", data: [] });
      const body = await request.json().catch(() => null);
      received.push({ path, authorization: request.headers.get("authorization"), body });
      if (state.status != null)
        return Response.json({ error: { message: `echo of the input: ${JSON.stringify(body)}`, type: "invalid_request_error", code: "bad_thing", param: null } }, { status: state.status, headers: { "retry-after": "7" } });
      if (path === "/v1/embeddings") {
        const inputs: string[] = body.input;
        return Response.json({ object: "list", data: inputs.map((input, index) => ({ object: "embedding", index, embedding: [input.length, index] })), model: body.model, usage: { prompt_tokens: inputs.length, total_tokens: inputs.length } });
      }
      const chat = path === "/v1/chat/completions";
      if (!chat && path !== "/v1/completions") return new Response("not found", { status: 404 });
      const chunk = (choice: object | null, usage?: object) => ({
        id: "up-1",
        object: chat ? "chat.completion.chunk" : "text_completion",
        created: 1,
        model: body.model,
        choices: choice == null ? [] : [{ index: 0, logprobs: null, finish_reason: null, ...choice }],
        ...(usage != null && { usage }),
      });
      const stream = new ReadableStream<Uint8Array>({
        async start(controller) {
          const send = (data: unknown) => controller.enqueue(encoder.encode(`data: ${JSON.stringify(data)}\n\n`));
          if (chat) send(chunk({ delta: { role: "assistant", content: "" } }));
          for (const [index, token] of tokens.entries()) {
            if (options.tokenDelayMs) await Bun.sleep(options.tokenDelayMs);
            if (index === 1 && options.holdAfterFirst) await options.holdAfterFirst;
            send(chunk(chat ? { delta: { content: token } } : { text: token }));
          }
          send(chunk(chat ? { delta: {}, finish_reason: "stop" } : { text: "", finish_reason: "stop" }));
          if (body.stream_options?.include_usage) send(chunk(null, { prompt_tokens: 11, completion_tokens: tokens.length, total_tokens: 11 + tokens.length }));
          controller.enqueue(encoder.encode("data: [DONE]\n\n"));
          controller.close();
        },
      });
      return new Response(stream, { headers: { "content-type": "text/event-stream" } });
    },
  });

  return {
    server,
    received,
    url: `http://127.0.0.1:${server.port}/v1`,
    /** Switches every later answer to this status (undefined: back to normal). */
    answerWith(status: number | undefined) {
      state.status = status;
    },
    stop: () => server.stop(true),
  };
}

/** A fetch that counts its calls, so tests can tell a refused request from one that tried to connect. */
export function countingFetch() {
  const calls: string[] = [];
  const fetcher = (url: string, init: RequestInit) => {
    calls.push(url);
    return globalThis.fetch(url, init);
  };
  return { fetch: fetcher, calls };
}
