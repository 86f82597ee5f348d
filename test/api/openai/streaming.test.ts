import { describe, expect, test } from "bun:test";
import { chat, json, openAiApp, post, sseData } from "./harness";

const base = (id: string) => ({ id: `chatcmpl-${id}`, object: "chat.completion.chunk", created: 1_750_000_000, model: "fake" });

describe("streaming chat completions", () => {
  test("Should stream OpenAI's exact chunk sequence - role, deltas, finish, usage, [DONE]", async () => {
    const { app } = openAiApp();
    const response = await app.handle(post("/v1/chat/completions", chat({ max_tokens: 2, stream: true, stream_options: { include_usage: true } })));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("no-cache");
    const id = response.headers.get("x-request-id")!;
    const choice = (delta: object, finish_reason: string | null = null) => ({ index: 0, delta, logprobs: null, finish_reason });
    expect(sseData(await response.text())).toEqual([
      { ...base(id), choices: [choice({ role: "assistant", content: "", refusal: null })], usage: null },
      { ...base(id), choices: [choice({ content: " 4" })], usage: null },
      { ...base(id), choices: [choice({ content: " 5" })], usage: null },
      { ...base(id), choices: [choice({}, "length")], usage: null },
      { ...base(id), choices: [], usage: { prompt_tokens: 6, completion_tokens: 2, total_tokens: 8 } },
      "[DONE]",
    ]);
  });

  test("Should leave usage out of every chunk - when include_usage is not asked for", async () => {
    const { app } = openAiApp();
    const chunks = sseData(await (await app.handle(post("/v1/chat/completions", chat({ max_tokens: 2, stream: true })))).text());
    expect(chunks.at(-1)).toBe("[DONE]");
    for (const chunk of chunks.slice(0, -1)) expect(chunk).not.toHaveProperty("usage");
    expect(chunks).toHaveLength(5);
  });

  test("Should stream the same text the non-streaming answer has", async () => {
    const { app } = openAiApp();
    const whole = await json(await app.handle(post("/v1/chat/completions", chat({ stop: " 9" }))));
    const chunks = sseData(await (await app.handle(post("/v1/chat/completions", chat({ stop: " 9", stream: true })))).text());
    const streamed = chunks
      .slice(0, -1)
      .map((c: any) => c.choices[0]?.delta.content ?? "")
      .join("");
    expect(streamed).toBe(whole.choices[0].message.content);
  });

  test("Should stream tool calls as indexed tool_calls deltas - then finish_reason tool_calls", async () => {
    const { app } = openAiApp();
    const tools = [{ type: "function", function: { name: "lookup", parameters: { type: "object", properties: { q: { type: "string" } } } } }];
    const response = await app.handle(post("/v1/chat/completions", chat({ tools, tool_choice: "required", stream: true })));
    const id = response.headers.get("x-request-id")!;
    const chunks = sseData(await response.text()) as any[];
    expect(chunks.map((c) => c.choices?.[0]?.finish_reason ?? null)).toEqual([null, null, "tool_calls", null]);
    expect(chunks[1].choices[0].delta).toEqual({
      tool_calls: [{ index: 0, id: `call_${id}_0`, type: "function", function: { name: "lookup", arguments: '{"q":"text"}' } }],
    });
    expect(chunks[2].choices[0].delta).toEqual({});
  });

  test("Should stream logprobs with each content delta", async () => {
    const { app } = openAiApp();
    const chunks = sseData(await (await app.handle(post("/v1/chat/completions", chat({ max_tokens: 1, stream: true, logprobs: true })))).text()) as any[];
    expect(chunks[1].choices[0].logprobs).toEqual({ content: [{ token: " 4", logprob: -0.01, bytes: [32, 52], top_logprobs: [] }], refusal: null });
  });

  test("Should send an engine failure after the stream began as an SSE error event - and no [DONE]", async () => {
    const { app } = openAiApp({ fault: () => "stream" });
    const response = await app.handle(post("/v1/chat/completions", chat({ stream: true })));
    expect(response.status).toBe(200);
    const chunks = sseData(await response.text()) as any[];
    expect(chunks).not.toContain("[DONE]");
    expect(chunks.at(-1)).toEqual({
      error: {
        message: `the inference engine failed on request ${response.headers.get("x-request-id")}`,
        type: "api_error",
        param: null,
        code: "engine_error",
        request_id: response.headers.get("x-request-id"),
      },
    });
  });

  test("Should answer an admission failure as a JSON error - before any stream starts", async () => {
    const { app } = openAiApp({ fault: () => "admit" });
    const response = await app.handle(post("/v1/chat/completions", chat({ stream: true })));
    expect(response.status).toBe(500);
    expect(response.headers.get("content-type")).toStartWith("application/json");
    expect((await json(response)).error.code).toBe("engine_error");
  });
});

describe("client disconnect", () => {
  test("Should abort the generation and free the sequence - when the client cancels the stream", async () => {
    const { app, engine, generations } = openAiApp({ tokenDelayMs: 5, naturalLength: 10_000 });
    const response = await app.handle(post("/v1/chat/completions", chat({ stream: true })));
    const reader = response.body!.getReader();
    await reader.read();
    await reader.read();
    expect(generations[0]!.signal.aborted).toBe(false);
    await reader.cancel();
    expect(generations[0]!.signal.aborted).toBe(true);
    await Bun.sleep(20);
    expect(engine.models()[0]?.busySequences).toBe(0);
  });

  test("Should abort a non-streaming generation - when the request's signal fires", async () => {
    const { app, generations } = openAiApp({ tokenDelayMs: 5, naturalLength: 10_000 });
    const client = new AbortController();
    const answer = app.handle(new Request("http://localhost/v1/chat/completions", { method: "POST", body: JSON.stringify(chat()), signal: client.signal }));
    await Bun.sleep(30);
    expect(generations[0]!.signal.aborted).toBe(false);
    client.abort();
    expect(generations[0]!.signal.aborted).toBe(true);
    await answer;
  });
});

describe("streaming completions", () => {
  test("Should stream text_completion chunks - then a finish chunk, usage and [DONE]", async () => {
    const { app } = openAiApp();
    const response = await app.handle(post("/v1/completions", { model: "fake", prompt: "1 2", max_tokens: 2, stream: true, stream_options: { include_usage: true } }));
    const id = response.headers.get("x-request-id")!;
    const base = { id: `cmpl-${id}`, object: "text_completion", created: 1_750_000_000, model: "fake" };
    expect(sseData(await response.text())).toEqual([
      { ...base, choices: [{ text: " 3", index: 0, logprobs: null, finish_reason: null }], usage: null },
      { ...base, choices: [{ text: " 4", index: 0, logprobs: null, finish_reason: null }], usage: null },
      { ...base, choices: [{ text: "", index: 0, logprobs: null, finish_reason: "length" }], usage: null },
      { ...base, choices: [], usage: { prompt_tokens: 2, completion_tokens: 2, total_tokens: 4 } },
      "[DONE]",
    ]);
  });
});
