/**
 * Wraps a generator so that `release` runs exactly once however the stream ends: drained, thrown,
 * broken out of, or never iterated at all and only `return()`ed. A bare async generator skips its
 * `finally` when `return()` comes before the first `next()`, which would leak the sequence.
 */
export function ownedStream<T>(generator: AsyncGenerator<T, void, undefined>, release: () => void): AsyncIterable<T> {
  let released = false;
  const releaseOnce = () => {
    if (released) return;
    released = true;
    release();
  };
  const iterator: AsyncIterator<T, void, undefined> = {
    async next() {
      try {
        const result = await generator.next();
        if (result.done) releaseOnce();
        return result;
      } catch (error) {
        releaseOnce();
        throw error;
      }
    },
    async return() {
      try {
        await generator.return();
      } finally {
        releaseOnce();
      }
      return { done: true, value: undefined };
    },
  };
  return { [Symbol.asyncIterator]: () => iterator };
}
