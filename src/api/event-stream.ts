import { EnclaveError, EngineError } from "../errors";
import type { GenerationEvent } from "../inference/types";

type TextEvent = Extract<GenerationEvent, { type: "text" }>;
type DoneEvent = Extract<GenerationEvent, { type: "done" }>;
type ReasoningEvent = Extract<GenerationEvent, { type: "reasoning" }>;

/** How one streaming API frames a generation: bytes to send at the start, per text event, at the end, and on a failure. */
export interface StreamFrames {
  opening(): Uint8Array[];
  text(event: TextEvent): Uint8Array[];
  /** A model's thoughts; an API without a place for them leaves this out and they are not sent. */
  reasoning?(event: ReasoningEvent): Uint8Array[];
  closing(event: DoneEvent): Uint8Array[];
  /** After the status line is gone, a failure is told inside the stream. Never an unknown error's own message. */
  failed(error: EnclaveError): Promise<Uint8Array[]> | Uint8Array[];
}

/**
 * A generation as a byte stream, for every streaming API (OpenAI chunks, Responses events...).
 * Frames are produced on demand (highWaterMark 0), so a slow client slows generation instead of
 * filling memory; when the client goes away, `cancel()` aborts the generation through `abort`.
 * A stream that ends without `done` is an engine fault.
 */
export function eventStream(events: AsyncIterable<GenerationEvent>, frames: StreamFrames, abort: AbortController, requestId: string): ReadableStream<Uint8Array> {
  const iterator = events[Symbol.asyncIterator]();
  const release = () => void iterator.return?.()?.catch(() => {});
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        for (const bytes of frames.opening()) controller.enqueue(bytes);
      },
      async pull(controller) {
        try {
          // Loop until something is sent: an empty text event may produce no frame.
          for (;;) {
            const step = await iterator.next();
            if (step.done) throw new EngineError(requestId);
            if (step.value.type === "text" || step.value.type === "reasoning") {
              const sent = step.value.type === "text" ? frames.text(step.value) : (frames.reasoning?.(step.value) ?? []);
              for (const bytes of sent) controller.enqueue(bytes);
              if (sent.length > 0) return;
              continue;
            }
            for (const bytes of frames.closing(step.value)) controller.enqueue(bytes);
            controller.close();
            release();
            return;
          }
        } catch (error) {
          try {
            const known = error instanceof EnclaveError ? error : new EngineError(requestId);
            if (!abort.signal.aborted) for (const bytes of await frames.failed(known)) controller.enqueue(bytes);
            controller.close();
          } catch {
            // Cancelled meanwhile: the client is gone and there is no one to tell.
          }
          release();
        }
      },
      cancel() {
        abort.abort();
        release();
      },
    },
    { highWaterMark: 0 },
  );
}
