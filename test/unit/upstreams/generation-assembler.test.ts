import { describe, expect, test } from "bun:test";
import { createGenerationAssembler } from "../../../src/upstreams/generation-assembler";

const chat = (delta: object, extra: object = {}) => JSON.stringify({ object: "chat.completion.chunk", choices: [{ index: 0, delta, finish_reason: null, ...extra }] });

describe("createGenerationAssembler", () => {
  test("Should turn each content delta into one text event - and usage into the done event", () => {
    const assembler = createGenerationAssembler();
    expect(assembler.push(chat({ role: "assistant", content: "" }))).toEqual({ kind: "none" });
    expect(assembler.push(chat({ content: "Hel" }))).toEqual({ kind: "event", event: { type: "text", text: "Hel" } });
    expect(assembler.push(chat({ content: "lo" }))).toEqual({ kind: "event", event: { type: "text", text: "lo" } });
    assembler.push(chat({}, { finish_reason: "length" }));
    assembler.push(JSON.stringify({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } }));
    expect(assembler.finish()).toEqual({ type: "done", finishReason: "length", toolCalls: [], usage: { promptTokens: 5, completionTokens: 2 } });
  });

  test("Should join tool-call fragments by index - in index order", () => {
    const assembler = createGenerationAssembler();
    assembler.push(chat({ tool_calls: [{ index: 1, id: "call_b", type: "function", function: { name: "second", arguments: "" } }] }));
    assembler.push(chat({ tool_calls: [{ index: 0, id: "call_a", type: "function", function: { name: "first", arguments: '{"x"' } }] }));
    assembler.push(chat({ tool_calls: [{ index: 0, function: { arguments: ":1}" } }] }));
    assembler.push(chat({ tool_calls: [{ index: 1, function: { arguments: "{}" } }] }));
    assembler.push(chat({}, { finish_reason: "tool_calls" }));
    expect(assembler.finish()?.toolCalls).toEqual([
      { id: "call_a", name: "first", arguments: '{"x":1}' },
      { id: "call_b", name: "second", arguments: "{}" },
    ]);
  });

  test("Should read text completion chunks and their legacy logprobs", () => {
    const assembler = createGenerationAssembler();
    const chunk = { choices: [{ index: 0, text: " 4", logprobs: { tokens: [" 4"], token_logprobs: [-0.5], top_logprobs: [{ " 4": -0.5, " 5": -2 }] }, finish_reason: null }] };
    expect(assembler.push(JSON.stringify(chunk))).toEqual({
      kind: "event",
      event: { type: "text", text: " 4", logprobs: [{ token: " 4", logprob: -0.5, top: [{ token: " 4", logprob: -0.5 }, { token: " 5", logprob: -2 }] }] },
    });
  });

  test("Should read chat logprobs", () => {
    const assembler = createGenerationAssembler();
    const verdict = assembler.push(chat({ content: "a" }, { logprobs: { content: [{ token: "a", logprob: -1, bytes: [97], top_logprobs: [{ token: "a", logprob: -1, bytes: [97] }] }], refusal: null } }));
    expect(verdict).toEqual({ kind: "event", event: { type: "text", text: "a", logprobs: [{ token: "a", logprob: -1, top: [{ token: "a", logprob: -1 }] }] } });
  });

  test.each([
    ["not JSON", "{oops", "malformed"],
    ["a choices field of the wrong type", JSON.stringify({ choices: "x" }), "malformed"],
    ["an error object", JSON.stringify({ error: { message: "boom", type: "api_error" } }), "error"],
  ])("Should report %s", (_name, data, kind) => {
    expect(createGenerationAssembler().push(data).kind).toBe(kind as "error");
  });

  test("Should have no done event when the stream never finished", () => {
    const assembler = createGenerationAssembler();
    assembler.push(chat({ content: "partial" }));
    expect(assembler.finish()).toBeNull();
  });

  test("Should count chunks when the upstream sends no usage", () => {
    const assembler = createGenerationAssembler();
    assembler.push(chat({ content: "a" }));
    assembler.push(chat({ content: "b" }, { finish_reason: "stop" }));
    expect(assembler.finish()?.usage).toEqual({ promptTokens: 0, completionTokens: 2 });
  });
});
