import { describe, expect, test } from "bun:test";
import { createLlamaLogForwarder, isPayloadFreeLlamaMessage } from "../../../src/inference/llama-log-forwarder";
import { memoryLogger } from "../../support/test-app";

/** Messages as llama.cpp (the release node-llama-cpp 3.21.1 bundles) hands them to node-llama-cpp's logger. */
describe("llama.cpp messages in Enclave's log", () => {
  test.each([
    ["llama_context: n_ctx_per_seq (256) < n_ctx_train (2048) -- the full capacity of the model will not be utilized", true],
    // What llama.cpp logs when a grammar does not parse (its parser prints the grammar itself to stderr).
    ["failed to parse grammar", true],
    ["llama_grammar_init_impl: failed to parse grammar", true],
    ['parse: error parsing grammar: expecting newline or end at ::= broken\n\nroot ::= "{" "\\"cnry\\""', false],
    ['val0 ::= "\\"secret\\""', false],
    ["llama_context: a line quoting 'text'", false],
    ["some_other_function: anything", false],
  ])("Should forward only payload-free shapes: %s -> %p", (message, forwarded) => {
    expect(isPayloadFreeLlamaMessage(message)).toBe(forwarded);
  });

  test("Should log a withheld message as its level and length only - never its text", () => {
    const { logger, lines } = memoryLogger();
    const forward = createLlamaLogForwarder(logger);
    forward("error", 'root ::= "{" "\\"cnrySCHEMAconst\\""');
    forward("warn", "failed to parse grammar");
    expect(lines.some((line) => line.includes("cnrySCHEMAconst"))).toBe(false);
    const logged = lines.map((line) => JSON.parse(line));
    expect(logged.map(({ msg, message, length }) => ({ msg, message, length }))).toEqual([
      { msg: "llama.cpp message withheld: not a known payload-free shape", message: undefined, length: 34 },
      { msg: "llama.cpp", message: "failed to parse grammar", length: undefined },
    ]);
  });
});
