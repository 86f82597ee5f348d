import { describe, expect, test } from "bun:test";
import { LlamaLogLevel } from "node-llama-cpp";
import { createLlamaLogForwarder, isPayloadFreeLlamaMessage } from "../../../src/inference/llama-log-forwarder";
import { memoryLogger } from "../../support/test-app";
import { sharedLlama } from "./tiny-pair";

describe("llama.cpp messages in Enclave's log", () => {
  test("Should withhold a grammar llama.cpp cannot parse - no property name or const value of the caller's schema reaches the log", async () => {
    const llama = await sharedLlama();
    const { logger, lines } = memoryLogger();
    const before = { logger: llama.logger, level: llama.logLevel };
    llama.logger = createLlamaLogForwarder(logger);
    llama.logLevel = LlamaLogLevel.warn;
    const canary = "cnryGRAMMARc0nst";
    try {
      await expect(llama.createGrammar({ grammar: `root ::= "{" "\\"${canary}\\"" ::= broken` })).rejects.toBeDefined();
      await Bun.sleep(50);
    } finally {
      llama.logger = before.logger;
      llama.logLevel = before.level;
    }
    // llama.cpp did say something (the scan is not vacuous), and none of it carried the grammar.
    expect(lines.some((line) => line.includes("llama.cpp"))).toBe(true);
    expect(lines.filter((line) => line.includes(canary))).toEqual([]);
  });

  test.each([
    ["llama_context: n_ctx_per_seq (256) < n_ctx_train (2048) -- the full capacity of the model will not be utilized", true],
    ["llama_grammar_init_impl: failed to parse grammar", true],
    ['parse: error parsing grammar: expecting name at ::= broken\n\nroot ::= "{"', false],
    ['val0 ::= "\\"secret\\""', false],
    ["llama_context: a line quoting 'text'", false],
    ["some_other_function: anything", false],
  ])("Should forward only payload-free shapes: %s -> %p", (message, forwarded) => {
    expect(isPayloadFreeLlamaMessage(message)).toBe(forwarded);
  });
});
