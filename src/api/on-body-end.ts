export interface BodyEndOptions {
  /**
   * Longest the consumer (Bun's socket writer) may leave a chunk unasked-for. A client that stops
   * reading fills the socket's buffers; Bun then stops pulling, and after this long the body is
   * cancelled (which aborts the generation and frees its sequence) and the response is cut.
   */
  writeDeadlineMs?: number;
}

/**
 * Passes a response body through unchanged and calls `onEnd` exactly once when it is done: read
 * to the end, failed, cancelled by a client that went away, or cut at the write deadline (after
 * the cancel has reached the source, so the engine has been told to stop before the slot is given
 * back). Nothing is read ahead (highWaterMark 0): a chunk is produced only when the socket asks.
 */
export function onBodyEnd(body: ReadableStream<Uint8Array>, onEnd: () => void, options: BodyEndOptions = {}): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let ended = false;
  // One timer for the whole body, re-armed only when it fires early: a timer set and cleared per
  // chunk cost more than a small model's token.
  let deadline: Timer | undefined;
  let waitingSince: number | null = null;
  const end = () => {
    clearTimeout(deadline);
    if (ended) return;
    ended = true;
    onEnd();
  };
  const watch = (controller: ReadableStreamDefaultController<Uint8Array>, deadlineMs: number, delayMs: number) => {
    deadline = setTimeout(() => {
      if (ended) return;
      if (waitingSince == null) return watch(controller, deadlineMs, deadlineMs);
      const waited = performance.now() - waitingSince;
      if (waited < deadlineMs) return watch(controller, deadlineMs, deadlineMs - waited);
      void reader.cancel(new Error("write deadline passed")).finally(() => {
        try {
          controller.error(new Error("write deadline passed"));
        } catch {
          // Already closed.
        }
        end();
      });
    }, delayMs);
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        waitingSince = null;
        try {
          const { done, value } = await reader.read();
          if (done) {
            controller.close();
            end();
            return;
          }
          controller.enqueue(value);
          if (options.writeDeadlineMs != null) {
            waitingSince = performance.now();
            if (deadline == null) watch(controller, options.writeDeadlineMs, options.writeDeadlineMs);
          }
        } catch (error) {
          controller.error(error);
          end();
        }
      },
      async cancel(reason) {
        clearTimeout(deadline);
        try {
          await reader.cancel(reason);
        } finally {
          end();
        }
      },
    },
    { highWaterMark: 0 },
  );
}
