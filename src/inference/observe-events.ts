import type { GenerationEvent } from "./types";

export interface EventObserver {
  /** Each event as it passes, before the consumer sees it. */
  event?(event: GenerationEvent): void;
  /** The stream threw (the error still reaches the consumer). */
  failed?(error: unknown): void;
  /** The stream ended without a `done` event, or the consumer stopped reading early. */
  ended?(): void;
}

/**
 * Passes a generation's events through unchanged while telling an observer about them. return()
 * is forwarded at once, so the engine frees its sequence even if iteration never began. The
 * engine decorators (metering, metrics, payload retention) all look at streams through this.
 */
export function observeEvents(events: AsyncIterable<GenerationEvent>, observer: EventObserver): AsyncIterable<GenerationEvent> {
  const iterator = events[Symbol.asyncIterator]();
  const observed: AsyncIterator<GenerationEvent, void, undefined> = {
    async next() {
      let result: IteratorResult<GenerationEvent, void>;
      try {
        result = await iterator.next();
      } catch (error) {
        observer.failed?.(error);
        throw error;
      }
      if (result.done) observer.ended?.();
      else observer.event?.(result.value);
      return result;
    },
    async return() {
      try {
        await iterator.return?.();
      } finally {
        observer.ended?.();
      }
      return { done: true, value: undefined };
    },
  };
  return { [Symbol.asyncIterator]: () => observed };
}
