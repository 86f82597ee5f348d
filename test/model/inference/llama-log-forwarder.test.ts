import { describe, expect, test } from "bun:test";
import { LlamaLogLevel } from "node-llama-cpp";
import { createLlamaLogForwarder, isPayloadFreeLlamaMessage } from "../../../src/inference/llama-log-forwarder";
import { memoryLogger } from "../../support/test-app";
import { sharedLlama } from "./tiny-pair";

describe("llama.cpp messages in Enclave's log", () => {
  test("Should forward llama.cpp's own grammar failure as a known shape - and nothing of the grammar", async () => {
    const llama = await sharedLlama();
    const { logger, lines } = memoryLogger();
    const before = { logger: llama.logger, level: llama.logLevel };
    llama.logger = createLlamaLogForwarder(logger);
    llama.logLevel = LlamaLogLevel.warn;
    try {
      await expect(llama.createGrammar({ grammar: 'root ::= "{" ::= broken' })).rejects.toBeDefined();
      await Bun.sleep(50);
    } finally {
      llama.logger = before.logger;
      llama.logLevel = before.level;
    }
    const forwarded = lines.map((line) => JSON.parse(line)).filter((line) => line.msg === "llama.cpp");
    expect(forwarded.map((line) => line.message)).toEqual(["failed to parse grammar"]);
  });

  test.each([
    ["llama_context: n_ctx_per_seq (256) < n_ctx_train (2048) -- the full capacity of the model will not be utilized", true],
    ["failed to parse grammar", true],
    ["llama_grammar_init_impl: failed to parse grammar", true],
    ['parse: error parsing grammar: expecting name at ::= broken\n\nroot ::= "{"', false],
    ['val0 ::= "\\"secret\\""', false],
    ["llama_context: a line quoting 'text'", false],
    ["some_other_function: anything", false],
  ])("Should forward only payload-free shapes: %s -> %p", (message, forwarded) => {
    expect(isPayloadFreeLlamaMessage(message)).toBe(forwarded);
  });
});
