import { describe, expect, test } from "bun:test";
import { chat, json, openAiApp, post, sseData } from "./harness";

const completion = (body: Record<string, unknown> = {}) => ({ model: "fake", prompt: "count 1 2 3", ...body });

describe("llama-server's samplers on /v1", () => {
  test("Should hand top_k, min_p and repeat_penalty to the engine - chat", async () => {
    const { app, generations } = openAiApp();
    const response = await app.handle(post("/v1/chat/completions", chat({ top_k: 40, min_p: 0.05, repeat_penalty: 1.1, max_tokens: 1 })));
    expect(response.status).toBe(200);
    expect(generations[0]?.sampling).toMatchObject({ topK: 40, minP: 0.05, repeatPenalty: 1.1 });
  });

  test("Should take repetition_penalty as repeat_penalty - vLLM's name for the same sampler", async () => {
    const { app, generations } = openAiApp();
    const response = await app.handle(post("/v1/completions", completion({ repetition_penalty: 1.3, top_k: 5, min_p: 0.1 })));
    expect(response.status).toBe(200);
    expect(generations[0]?.sampling).toMatchObject({ topK: 5, minP: 0.1, repeatPenalty: 1.3 });
  });

  test("Should leave the samplers unset when the client sends none or their off values - sampling as before", async () => {
    const { app, generations } = openAiApp();
    await app.handle(post("/v1/chat/completions", chat({ max_tokens: 1 })));
    await app.handle(post("/v1/chat/completions", chat({ max_tokens: 1, top_k: 0, min_p: 0, typical_p: 1, repeat_penalty: null })));
    for (const sent of generations) {
      expect(sent.sampling).not.toHaveProperty("topK");
      expect(sent.sampling).not.toHaveProperty("minP");
      expect(sent.sampling).not.toHaveProperty("repeatPenalty");
    }
  });

  const refused: [string, string, Record<string, unknown>, string, string][] = [
    ["typical_p on chat", "/v1/chat/completions", chat({ typical_p: 0.9 }), "typical_p", "unsupported_value"],
    ["typical_p on completions", "/v1/completions", completion({ typical_p: 0.5 }), "typical_p", "unsupported_value"],
    ["a negative top_k", "/v1/chat/completions", chat({ top_k: -1 }), "top_k", "invalid_value"],
    ["a fractional top_k", "/v1/completions", completion({ top_k: 1.5 }), "top_k", "invalid_type"],
    ["min_p above 1", "/v1/chat/completions", chat({ min_p: 1.5 }), "min_p", "invalid_value"],
    ["a zero repeat_penalty", "/v1/completions", completion({ repeat_penalty: 0 }), "repeat_penalty", "invalid_value"],
    ["repeat_penalty and repetition_penalty that disagree", "/v1/chat/completions", chat({ repeat_penalty: 1.1, repetition_penalty: 1.2 }), "repetition_penalty", "invalid_value"],
  ];
  for (const [name, path, body, param, code] of refused) {
    test(`Should answer 400 naming ${param} - ${name}`, async () => {
      const { app, generations } = openAiApp();
      const response = await app.handle(post(path, body));
      expect(response.status).toBe(400);
      const { error } = await json(response);
      expect(error).toMatchObject({ type: "invalid_request_error", param, code });
      expect(error.message).toContain(param === "repetition_penalty" ? "repeat_penalty" : param);
      expect(generations).toHaveLength(0);
    });
  }
});

describe("a reasoning model's thoughts on chat", () => {
  const reasoning = "the user counts; next is 4";

  test("Should return the thoughts as reasoning_content beside the answer - non-streaming", async () => {
    const { app } = openAiApp({ reasoning });
    const body = await json(await app.handle(post("/v1/chat/completions", chat({ max_tokens: 2 }))));
    expect(body.choices[0].message).toEqual({ role: "assistant", content: " 4 5", reasoning_content: reasoning, refusal: null });
  });

  test("Should stream the thoughts as reasoning_content deltas before the content - streaming", async () => {
    const { app } = openAiApp({ reasoning });
    const chunks = sseData(await (await app.handle(post("/v1/chat/completions", chat({ max_tokens: 2, stream: true })))).text()).slice(0, -1) as any[];
    const deltas = chunks.map((chunk) => chunk.choices[0]?.delta ?? {});
    const thoughtAt = deltas.map((delta, index) => (delta.reasoning_content != null ? index : -1)).filter((index) => index >= 0);
    const contentAt = deltas.findIndex((delta) => delta.content != null && delta.content !== "");
    expect(deltas.map((delta) => delta.reasoning_content ?? "").join("")).toBe(reasoning);
    expect(deltas.map((delta) => delta.content ?? "").join("")).toBe(" 4 5");
    expect(Math.max(...thoughtAt)).toBeLessThan(contentAt);
    for (const index of thoughtAt) expect(deltas[index]).toEqual({ reasoning_content: expect.any(String) });
  });

  test("Should have no reasoning_content when the model had no thoughts - the field is absent, not empty", async () => {
    const { app } = openAiApp();
    const body = await json(await app.handle(post("/v1/chat/completions", chat({ max_tokens: 1 }))));
    expect(body.choices[0].message).not.toHaveProperty("reasoning_content");
  });
});
