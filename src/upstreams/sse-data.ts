/**
 * The `data:` payloads of a server-sent event stream, one per event as it arrives (multi-line
 * data joined with "\n"; comments, `event:` and `id:` lines skipped), until `[DONE]` or the end of
 * the body. The body is cancelled when the consumer stops early.
 */
export async function* sseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string, void, undefined> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      // A lone trailing "\r" may be the first half of "\r\n": leave it for the next chunk.
      buffer = (buffer + decoder.decode(value, { stream: true })).replace(/\r\n|\r(?!$)/g, "\n");
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const data = dataOf(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (data === "[DONE]") return;
        if (data != null) yield data;
      }
    }
    const data = dataOf((buffer + decoder.decode()).replace(/\r$/, ""));
    if (data != null && data !== "[DONE]") yield data;
  } finally {
    await reader.cancel().catch(() => {});
  }
}

function dataOf(event: string): string | null {
  const lines = event
    .split("\n")
    .filter((line) => line.startsWith("data:"))
    .map((line) => line.slice(line.startsWith("data: ") ? 6 : 5));
  return lines.length === 0 ? null : lines.join("\n");
}
