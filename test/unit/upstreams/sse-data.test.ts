import { describe, expect, test } from "bun:test";
import { sseData } from "../../../src/upstreams/sse-data";

function streamOf(parts: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const part of parts) controller.enqueue(encoder.encode(part));
      controller.close();
    },
  });
}

async function collect(parts: string[]): Promise<string[]> {
  const out: string[] = [];
  for await (const data of sseData(streamOf(parts))) out.push(data);
  return out;
}

describe("sseData", () => {
  test.each([
    ["one event per frame", ['data: {"a":1}\n\ndata: {"a":2}\n\n'], ['{"a":1}', '{"a":2}']],
    ["an event split across reads", ['data: {"a"', ':1}\n', '\ndata: 2\n\n'], ['{"a":1}', "2"]],
    ["CRLF line ends, split between \\r and \\n", ["data: 1\r", "\n\r\ndata: 2\r\n\r\n"], ["1", "2"]],
    ["comments, event: and id: lines skipped", [": keep-alive\n\nevent: message\nid: 7\ndata: x\n\n"], ["x"]],
    ["multi-line data joined with a newline", ["data: a\ndata: b\n\n"], ["a\nb"]],
    ["data: without a space", ["data:x\n\n"], ["x"]],
    ["nothing after [DONE]", ["data: 1\n\ndata: [DONE]\n\ndata: 2\n\n"], ["1"]],
    ["a last event without its blank line", ["data: 1\n\ndata: 2"], ["1", "2"]],
  ])("Should read %s", async (_name, parts, expected) => {
    expect(await collect(parts)).toEqual(expected);
  });

  test("Should split a UTF-8 sequence across reads without corrupting it", async () => {
    const bytes = new TextEncoder().encode("data: \u20ac\n\n");
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, 7));
        controller.enqueue(bytes.slice(7));
        controller.close();
      },
    });
    const out: string[] = [];
    for await (const data of sseData(stream)) out.push(data);
    expect(out).toEqual(["\u20ac"]);
  });

  test("Should cancel the body when the consumer stops early", async () => {
    let cancelled = false;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new TextEncoder().encode("data: 1\n\n"));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const _ of sseData(stream)) break;
    expect(cancelled).toBe(true);
  });
});
