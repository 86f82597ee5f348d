/**
 * A push source as an async iterable: the generation callback pushes, the HTTP stream pulls.
 * `onReturn` fires when the reader stops early, so the producer can abort and free its sequence.
 */
export interface EventChannel<T> extends AsyncIterable<T> {
  push(value: T): void;
  end(): void;
  fail(error: unknown): void;
}

export function createEventChannel<T>(onReturn: () => void): EventChannel<T> {
  const buffered: T[] = [];
  let ended = false;
  let failure: { error: unknown } | null = null;
  let wake: (() => void) | null = null;

  const notify = () => {
    wake?.();
    wake = null;
  };

  return {
    push(value) {
      if (ended) return;
      buffered.push(value);
      notify();
    },
    end() {
      ended = true;
      notify();
    },
    fail(error) {
      if (ended) return;
      failure = { error };
      ended = true;
      notify();
    },
    [Symbol.asyncIterator]() {
      return {
        async next(): Promise<IteratorResult<T, undefined>> {
          while (buffered.length === 0 && !ended) await new Promise<void>((resolve) => (wake = resolve));
          const value = buffered.shift();
          if (value !== undefined) return { done: false, value };
          if (failure != null) throw failure.error;
          return { done: true, value: undefined };
        },
        async return(): Promise<IteratorResult<T, undefined>> {
          ended = true;
          buffered.length = 0;
          onReturn();
          return { done: true, value: undefined };
        },
      };
    },
  };
}
