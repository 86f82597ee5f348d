import { describe, expect, test } from "bun:test";
import { engineFailure, requestTexts } from "../../../src/inference/engine-failure";
import { generationRequest } from "../../support/generation-request";

class LlamaDecodeError extends Error {
  override name = "LlamaDecodeError";
}

describe("engineFailure", () => {
  test("Should keep the class and a payload-free llama.cpp message - so the log says why", () => {
    expect(engineFailure(new LlamaDecodeError("llama_decode failed with status 1: invalid token id 700 (n_vocab 512)"))).toEqual({
      type: "LlamaDecodeError",
      message: "llama_decode failed with status 1: invalid token id 700 (n_vocab 512)",
    });
  });

  const canary = "zdr-canary-prompt 7731 tell me the launch codes";
  const cases: [string, string][] = [
    ["the prompt quoted in double quotes", `Failed to tokenize "${canary}"`],
    ["the prompt quoted in single quotes", `cannot evaluate '${canary}'`],
    ["the prompt in backticks", `bad input \`${canary}\``],
    ["the prompt unquoted", `eval failed on ${canary} at position 4`],
    ["a fragment of the prompt", `eval failed near launch codes, position 4`],
    ["a second line quoting it", `Grammar parse failed\n${canary}`],
  ];
  for (const [name, message] of cases) {
    test(`Should remove ${name} - nothing of the request reaches the log`, () => {
      const { message: logged } = engineFailure(new Error(message), requestTexts(generationRequest({ input: { kind: "text", prompt: canary } })));
      for (const fragment of ["canary", "launch", "codes", "7731"]) expect(logged).not.toContain(fragment);
      expect(logged.length).toBeGreaterThan(0);
    });
  }

  test("Should remove a tool call's arguments and a schema from a chat request", () => {
    const request = generationRequest({
      input: {
        kind: "chat",
        messages: [
          { role: "user", content: "hi" },
          { role: "assistant", content: "", toolCalls: [{ id: "c1", name: "lookup_account", arguments: '{"iban":"DE89370400440532013000"}' }] },
        ],
        tools: [{ name: "lookup_account", parameters: { type: "object", properties: { iban: { type: "string" } } } }],
        toolChoice: "auto",
      },
    });
    const { message } = engineFailure(new SyntaxError("JSON Parse error: Unexpected EOF after DE89370400440532013000 in lookup_account"), requestTexts(request));
    expect(message).not.toContain("DE8937");
    expect(message).not.toContain("lookup_account");
    expect(message).toStartWith("JSON Parse error: Unexpected EOF after");
  });

  test("Should keep apostrophes inside words - they are not quotes", () => {
    expect(engineFailure(new Error("the model's context can't hold 600 tokens")).message).toBe("the model's context can't hold 600 tokens");
  });

  test("Should name a thrown non-Error by its type - with no message", () => {
    expect(engineFailure(42)).toEqual({ type: "number", message: "" });
  });

  test("Should cut a long message - a log line stays one line", () => {
    expect(engineFailure(new Error("x ".repeat(400))).message.length).toBeLessThanOrEqual(303);
  });
});
