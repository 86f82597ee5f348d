import type { ConcurrencyRequest } from "./concurrency-limiter";
import { RateLimitError } from "./rate-limit-error";

/** The 429s of every limiter, so a client sees the same error from one node or a fleet. */
export const concurrencyRejection = {
  /** The key's queue is full; `counts` are the key's at that moment. */
  queueFull(request: ConcurrencyRequest, counts: { inFlight: number; queued: number }, retryAfterSeconds: number): RateLimitError {
    return new RateLimitError(
      `key '${request.keyId}' has ${counts.inFlight} requests in flight (limit ${request.keyLimit}) and ${counts.queued} waiting (queue size ${request.queueSize}); retry later`,
      { code: "concurrency_queue_full", retryAfterSeconds, details: { concurrency_limit: request.keyLimit, queue_size: request.queueSize } },
    );
  },
  /** The request waited `maxWaitMs` without a slot. */
  waitExceeded(request: ConcurrencyRequest, retryAfterSeconds: number): RateLimitError {
    return new RateLimitError(`waited ${request.maxWaitMs} ms for one of key '${request.keyId}''s ${request.keyLimit} concurrent request slots; retry later`, {
      code: "concurrency_wait_exceeded",
      retryAfterSeconds,
      details: { concurrency_limit: request.keyLimit, queue_size: request.queueSize },
    });
  },
};
