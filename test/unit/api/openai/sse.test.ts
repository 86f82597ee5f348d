import { describe, expect, test } from "bun:test";
import { chatChunkFormat, sseStream } from "../../../../src/api/openai/sse";
import type { GenerationEvent } from "../../../../src/inference/types";

const meta = { requestId: "r1", model: "m", created: 1 };
const done: GenerationEvent = { type: "done", finishReason: "stop", toolCalls: [], usage: { promptTokens: 1, completionTokens: 2 } };

/** A hand-driven event source that records whether it was released. */
function source(events: GenerationEvent[], options: { hang?: boolean } = {}) {
  const state = { returned: false };
  const iterable: AsyncIterable<GenerationEvent> = {
    [Symbol.asyncIterator]: () => {
      let index = 0;
      return {
        next: () =>
          index < events.length
            ? Promise.resolve({ done: false as const, value: events[index++]! })
            : options.hang
              ? new Promise<never>(() => {})
              : Promise.resolve({ done: true as const, value: undefined }),
        return: () => {
          state.returned = true;
          return Promise.resolve({ done: true as const, value: undefined });
        },
      };
    },
  };
  return { iterable, state };
}

const decode = async (stream: ReadableStream<Uint8Array>) => new Response(stream).text();

describe("sseStream", () => {
  test("Should skip empty text events - no empty content deltas reach the client", async () => {
    const { iterable } = source([{ type: "text", text: "" }, { type: "text", text: "hi" }, done]);
    const text = await decode(sseStream(iterable, chatChunkFormat({ meta, includeUsage: false, wantLogprobs: false, choices: 1 }), new AbortController(), "r1"));
    expect(text.split("\n\n").filter((e) => e.includes('"content":"hi"'))).toHaveLength(1);
    expect(text.match(/^data: /gm)).toHaveLength(4);
  });

  test("Should report an engine that ends without `done` as an error event - not as [DONE]", async () => {
    const { iterable } = source([{ type: "text", text: "hi" }]);
    const text = await decode(sseStream(iterable, chatChunkFormat({ meta, includeUsage: false, wantLogprobs: false, choices: 1 }), new AbortController(), "r1"));
    expect(text).not.toContain("[DONE]");
    expect(text).toContain('"code":"engine_error"');
  });

  test("Should never send a non-Enclave error's own message - it may quote the prompt", async () => {
    const iterable: AsyncIterable<GenerationEvent> = {
      async *[Symbol.asyncIterator]() {
        throw new Error("failed on: my secret prompt");
      },
    };
    const text = await decode(sseStream(iterable, chatChunkFormat({ meta, includeUsage: false, wantLogprobs: false, choices: 1 }), new AbortController(), "r1"));
    expect(text).not.toContain("secret");
    expect(text).toContain('"type":"api_error"');
  });

  test("Should abort and release the generation - when the reader cancels", async () => {
    const { iterable, state } = source([{ type: "text", text: "a" }], { hang: true });
    const abort = new AbortController();
    const reader = sseStream(iterable, chatChunkFormat({ meta, includeUsage: false, wantLogprobs: false, choices: 1 }), abort, "r1").getReader();
    await reader.read();
    await reader.read();
    await reader.cancel();
    expect(abort.signal.aborted).toBe(true);
    expect(state.returned).toBe(true);
  });

  test("Should release the generation after `done` - so the sequence is freed at once", async () => {
    const { iterable, state } = source([done]);
    await decode(sseStream(iterable, chatChunkFormat({ meta, includeUsage: false, wantLogprobs: false, choices: 1 }), new AbortController(), "r1"));
    expect(state.returned).toBe(true);
  });
});
