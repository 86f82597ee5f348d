import { describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { servedEdge } from "./served-edge";

const until = async (condition: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (!condition() && Date.now() < end) await Bun.sleep(50);
  return condition();
};

describe("a client that never reads a stream (raw TCP)", () => {
  test("Should pause generation when the socket is full and abort it at the write deadline - its sequence freed while the client still holds the connection", async () => {
    // Each text event is ~16 kB, so the socket's buffers fill within a second or two.
    await using edge = await servedEdge({
      server: { write_timeout_seconds: 1 },
      fake: { naturalLength: 1_000_000, models: [{ id: "fake", contextSize: 10_000_000 }] },
      textRepeat: 2000,
    });
    const body = JSON.stringify({ model: "fake", messages: [{ role: "user", content: "count 1" }], stream: true });
    const socket = connect(edge.port, "127.0.0.1");
    socket.pause(); // never read
    socket.on("connect", () =>
      socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${edge.user}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`),
    );
    try {
      expect(await until(() => edge.events.yielded > 0, 3000)).toBe(true);
      // Backpressure: once the socket is full, generation stops; then the deadline frees the sequence.
      expect(await until(() => edge.engine.models()[0]!.busySequences === 0, 15_000)).toBe(true);
      const produced = edge.events.yielded;
      // Bounded by what the socket buffers hold (tens of MB at most on loopback), not by the 1M-token length.
      expect(produced).toBeLessThan(20_000);
      await Bun.sleep(500);
      expect(edge.events.yielded).toBe(produced);
      expect(socket.destroyed).toBe(false);
    } finally {
      socket.destroy();
    }
  }, 30_000);
});
