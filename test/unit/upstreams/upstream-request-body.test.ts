import { describe, expect, test } from "bun:test";
import type { GenerationRequest, Sampling } from "../../../src/inference/types";
import { upstreamEmbeddingBody, upstreamRequestBody } from "../../../src/upstreams/upstream-request-body";

const sampling: Sampling = { maxTokens: null, temperature: 1, topP: 1, stop: [], presencePenalty: 0, frequencyPenalty: 0, logitBias: {} };
const base = { requestId: "r1", model: "m", sampling, responseFormat: { type: "text" }, topLogprobs: null, signal: new AbortController().signal, waitForModel: true } as const;

describe("upstreamRequestBody", () => {
  test("Should pass top_k, min_p and repeat_penalty on under llama-server's names - a sampler is never dropped on the way", () => {
    const request: GenerationRequest = { ...base, sampling: { ...sampling, topK: 40, minP: 0.05, repeatPenalty: 1.1 }, input: { kind: "text", prompt: "p" } };
    expect(upstreamRequestBody(request).body).toMatchObject({ top_k: 40, min_p: 0.05, repeat_penalty: 1.1 });
  });

  test("Should stream a chat with usage and send only what is set", () => {
    const request: GenerationRequest = { ...base, input: { kind: "chat", messages: [{ role: "user", content: "hi" }], tools: [], toolChoice: "none" } };
    expect(upstreamRequestBody(request)).toEqual({
      path: "/chat/completions",
      body: { model: "m", stream: true, stream_options: { include_usage: true }, temperature: 1, top_p: 1, messages: [{ role: "user", content: "hi" }] },
    });
  });

  test("Should map messages, tools, sampling, response format and logprobs back to OpenAI JSON", () => {
    const request: GenerationRequest = {
      ...base,
      sampling: { maxTokens: 5, temperature: 0.2, topP: 0.9, seed: 7, stop: ["\n"], presencePenalty: 0.5, frequencyPenalty: 0.25, logitBias: { 42: -100 } },
      responseFormat: { type: "json_schema", name: "s", schema: { type: "object" } },
      topLogprobs: 2,
      input: {
        kind: "chat",
        messages: [
          { role: "system", content: "be brief" },
          { role: "assistant", content: "", toolCalls: [{ id: "c1", name: "f", arguments: "{}" }] },
          { role: "tool", content: "42", toolCallId: "c1" },
        ],
        tools: [{ name: "f", description: "a tool", parameters: { type: "object" } }],
        toolChoice: { name: "f" },
      },
    };
    expect(upstreamRequestBody(request).body).toEqual({
      model: "m",
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 5,
      temperature: 0.2,
      top_p: 0.9,
      seed: 7,
      stop: ["\n"],
      presence_penalty: 0.5,
      frequency_penalty: 0.25,
      logit_bias: { 42: -100 },
      messages: [
        { role: "system", content: "be brief" },
        { role: "assistant", content: "", tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" } }] },
        { role: "tool", content: "42", tool_call_id: "c1" },
      ],
      tools: [{ type: "function", function: { name: "f", description: "a tool", parameters: { type: "object" } } }],
      tool_choice: { type: "function", function: { name: "f" } },
      response_format: { type: "json_schema", json_schema: { name: "s", schema: { type: "object" } } },
      logprobs: true,
      top_logprobs: 2,
    });
  });

  test("Should send a text prompt to /completions with legacy logprobs", () => {
    const request: GenerationRequest = { ...base, sampling: { ...sampling, maxTokens: 16 }, topLogprobs: 3, input: { kind: "text", prompt: "1 2" } };
    expect(upstreamRequestBody(request)).toEqual({
      path: "/completions",
      body: { model: "m", stream: true, stream_options: { include_usage: true }, max_tokens: 16, temperature: 1, top_p: 1, prompt: "1 2", logprobs: 3 },
    });
  });

  test("Should ask for float embeddings", () => {
    expect(upstreamEmbeddingBody({ requestId: "r", model: "e", inputs: ["a"], signal: base.signal, waitForModel: true })).toEqual({ model: "e", input: ["a"], encoding_format: "float" });
  });
});
