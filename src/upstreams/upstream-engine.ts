import { z } from "zod";
import type { Config } from "../config/schema";
import { EngineError } from "../errors";
import type { Engine } from "../inference/engine";
import { ownedStream } from "../inference/owned-stream";
import type { GenerationEvent, GenerationRequest, ModelStatus } from "../inference/types";
import type { Logger } from "../logging/logger";
import { probeBackend, type BackendLoad } from "./backend-probe";
import { createCircuitBreaker, type CircuitBreaker } from "./circuit-breaker";
import { createGenerationAssembler } from "./generation-assembler";
import { sseData } from "./sse-data";
import { UpstreamRejectedError, UpstreamUnavailableError } from "./upstream-errors";
import { upstreamEmbeddingBody, upstreamRequestBody } from "./upstream-request-body";

export type UpstreamConfig = Config["upstreams"][number];

export interface UpstreamEngineOptions {
  upstream: UpstreamConfig;
  /** Sent as `Authorization: Bearer`; never logged, never in an error. */
  apiKey?: string;
  /** Default: the global fetch at call time, so an egress guard installed later still applies. */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
  /** Milliseconds since the epoch. */
  now?: () => number;
  /** Default: 3 consecutive failures open it for 30 s. */
  breaker?: CircuitBreaker;
  logger?: Logger;
  /** How long to wait for the upstream's response headers; default 30 s. */
  headersTimeoutMs?: number;
}

/** An Engine served by one OpenAI-compatible backend, with what the router needs to choose it. */
export interface UpstreamEngine extends Engine {
  readonly id: string;
  readonly region: string;
  readonly weight: number;
  readonly servedModels: readonly string[];
  readonly breaker: CircuitBreaker;
  /** Requests on the backend for `model`: the larger of those in flight from here and those it reported running, plus those it reported waiting. */
  load(model: string): number;
  /** One readiness and load probe (see backend-probe.ts); an unready backend counts as a failure, a ready one as a success. */
  probe(): Promise<void>;
  /** Probes every `probe_seconds` until stopProbing() or disposal. */
  startProbing(): void;
  stopProbing(): void;
}

const EmbeddingList = z.object({
  data: z.array(z.object({ index: z.number(), embedding: z.array(z.number()) })),
  usage: z.object({ prompt_tokens: z.number() }).nullish(),
});

const IDENTIFIER = /^[A-Za-z0-9_.[\]-]{1,64}$/;

/**
 * The Engine interface over an upstream's `/chat/completions`, `/completions` and `/embeddings`.
 * Generation always streams, so text events leave as the upstream's chunks arrive; `generate`
 * resolves once the upstream answered 200, so failures before that are still plain HTTP errors.
 *
 * Zero data retention: the request and answer pass through memory only. Logs name the upstream,
 * the request id, statuses and error classes, never a payload, an upstream message, its URL or
 * the key. Connection failures, 5xx and broken streams count toward the circuit breaker; an open
 * breaker refuses at once with 503 and Retry-After, without a connection attempt.
 */
export function createUpstreamEngine(options: UpstreamEngineOptions): UpstreamEngine {
  const { upstream, logger } = options;
  const id = upstream.id;
  const now = options.now ?? Date.now;
  const doFetch = options.fetch ?? ((url: string, init: RequestInit) => globalThis.fetch(url, init));
  const headersTimeoutMs = options.headersTimeoutMs ?? 30_000;
  const breaker =
    options.breaker ??
    createCircuitBreaker({
      now,
      onStateChange: (state) => logger?.[state === "open" ? "warn" : "info"]({ upstream: id, state }, "upstream circuit breaker changed state"),
    });
  const base = upstream.url.replace(/\/+$/, "");
  const created = Math.floor(now() / 1000);
  const shutdown = new AbortController();
  const busy = new Map<string, number>();
  let reported: Map<string, BackendLoad> | null = null;
  let probing: ReturnType<typeof setInterval> | null = null;
  let disposed = false;

  const retryAfter = () => breaker.retryAfterSeconds() || 1;
  const details = (extra: Record<string, number | string> = {}) => ({ upstream: id, ...extra });

  /** A failure of the backend itself: counted, logged without content, answered 502. */
  function failed(requestId: string, reason: string, message: string, upstreamStatus?: number): UpstreamUnavailableError {
    breaker.failure();
    logger?.warn({ upstream: id, requestId, reason, ...(upstreamStatus != null && { status: upstreamStatus }) }, "upstream failed");
    return new UpstreamUnavailableError({
      status: 502,
      code: "upstream_error",
      message: `upstream '${id}' ${message}`,
      retryAfterSeconds: retryAfter(),
      details: details(upstreamStatus != null ? { upstream_status: upstreamStatus } : {}),
    });
  }

  /** One call up to the response headers. Returns a 2xx response and the controller that ends it; throws the classified failure otherwise. */
  async function send(path: string, body: unknown, requestId: string, signal: AbortSignal): Promise<{ response: Response; end: AbortController }> {
    if (disposed) throw new EngineError(requestId);
    if (!breaker.tryAcquire()) {
      const seconds = retryAfter();
      throw new UpstreamUnavailableError({
        status: 503,
        code: "upstream_unavailable",
        message: `upstream '${id}' is failing; its circuit breaker refuses requests for ${seconds} more second(s)`,
        retryAfterSeconds: seconds,
        details: details(),
      });
    }
    const end = new AbortController();
    const timer = setTimeout(() => end.abort(new Error("upstream response headers timed out")), headersTimeoutMs);
    let response: Response;
    try {
      response = await doFetch(`${base}${path}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: path === "/embeddings" ? "application/json" : "text/event-stream",
          ...(options.apiKey != null && options.apiKey !== "" && { authorization: `Bearer ${options.apiKey}` }),
        },
        body: JSON.stringify(body),
        signal: AbortSignal.any([signal, end.signal, shutdown.signal]),
      });
    } catch (error) {
      if (signal.aborted || shutdown.signal.aborted) {
        breaker.release();
        throw signal.aborted ? signal.reason : new EngineError(requestId);
      }
      const timedOut = end.signal.aborted;
      breaker.failure();
      logger?.warn({ upstream: id, requestId, reason: timedOut ? "timeout" : "unreachable", err: { type: (error as Error)?.name ?? typeof error } }, "upstream failed");
      throw new UpstreamUnavailableError({
        status: 503,
        code: "upstream_unavailable",
        message: timedOut ? `upstream '${id}' sent no response within ${Math.ceil(headersTimeoutMs / 1000)} s` : `upstream '${id}' could not be reached`,
        retryAfterSeconds: retryAfter(),
        details: details(),
      });
    } finally {
      clearTimeout(timer);
    }

    const status = response.status;
    if (response.ok) {
      breaker.success();
      return { response, end };
    }
    if (status === 400 || status === 413 || status === 422) {
      // The upstream is healthy; the request is what it refused.
      breaker.success();
      throw new UpstreamRejectedError(id, status, await errorIdentifiers(response));
    }
    await response.body?.cancel().catch(() => {});
    if (status === 429 || status === 503) {
      // At capacity, as a local queue can be: another backend may take it; not a health failure.
      breaker.release();
      logger?.debug({ upstream: id, requestId, status }, "upstream at capacity");
      throw new UpstreamUnavailableError({
        status: 503,
        code: "upstream_overloaded",
        message: `upstream '${id}' is at capacity (status ${status})`,
        retryAfterSeconds: retryAfterHeader(response.headers.get("retry-after")) ?? 1,
        details: details({ upstream_status: status }),
      });
    }
    if (status >= 500) throw failed(requestId, "status", `failed with status ${status}`, status);
    // 401, 403, 404...: our credential or model list does not match the backend. A configuration
    // problem, not an outage, so it does not open the circuit; the admin sees it in the log.
    breaker.release();
    logger?.warn({ upstream: id, requestId, status }, "upstream refused the request; check its api key and model list");
    throw new UpstreamUnavailableError({
      status: 502,
      code: "upstream_error",
      message: `upstream '${id}' refused the request with status ${status}`,
      retryAfterSeconds: 1,
      details: details({ upstream_status: status }),
    });
  }

  async function* events(response: Response, request: GenerationRequest): AsyncGenerator<GenerationEvent, void, undefined> {
    const { requestId, signal } = request;
    const assembler = createGenerationAssembler();
    if (response.body == null) throw failed(requestId, "empty", "sent no body");
    try {
      for await (const data of sseData(response.body)) {
        const verdict = assembler.push(data);
        if (verdict.kind === "event") yield verdict.event;
        else if (verdict.kind === "error") throw failed(requestId, "stream_error", "reported an error mid-stream");
        else if (verdict.kind === "malformed") throw failed(requestId, "malformed", "sent a malformed stream");
      }
    } catch (error) {
      // The client went away: end without `done`, as the local engines do.
      if (signal.aborted) return;
      if (shutdown.signal.aborted) throw new EngineError(requestId);
      if (error instanceof UpstreamUnavailableError) throw error;
      throw failed(requestId, "broken", "broke off the stream");
    }
    if (signal.aborted) return;
    const done = assembler.finish();
    if (done == null) throw failed(requestId, "truncated", "ended the stream without a finish reason");
    yield done;
  }

  const track = (model: string, delta: number) => busy.set(model, (busy.get(model) ?? 0) + delta);

  const get = (url: string) =>
    doFetch(url, {
      method: "GET",
      headers: options.apiKey != null && options.apiKey !== "" ? { authorization: `Bearer ${options.apiKey}` } : {},
      signal: AbortSignal.any([AbortSignal.timeout(Math.min(5_000, upstream.probe_seconds * 1000)), shutdown.signal]),
    });

  async function probe() {
    // An open breaker waits out its cooldown; the half-open trial may be this probe.
    if (disposed || !breaker.tryAcquire()) return;
    const result = await probeBackend(upstream.kind, base, get);
    if (disposed) return;
    if (result.ready) breaker.success();
    else {
      breaker.failure();
      logger?.warn({ upstream: id, reason: "not_ready" }, "upstream failed its readiness probe");
    }
    reported = result.load;
  }

  return {
    id,
    region: upstream.region,
    weight: upstream.weight,
    servedModels: upstream.models,
    breaker,
    load(model) {
      const seen = reported?.get(model) ?? reported?.get("*");
      return Math.max(busy.get(model) ?? 0, seen?.running ?? 0) + (seen?.waiting ?? 0);
    },
    probe,
    startProbing() {
      if (probing != null || disposed) return;
      void probe();
      probing = setInterval(() => void probe(), upstream.probe_seconds * 1000);
      probing.unref?.();
    },
    stopProbing() {
      if (probing != null) clearInterval(probing);
      probing = null;
    },
    // Nothing to load, and no connection before a request needs one.
    async start() {},
    isReady: () => !disposed,
    models(): ModelStatus[] {
      const state = breaker.state === "open" ? "failed" : "ready";
      return upstream.models.map((model) => ({
        id: model,
        isDefault: false,
        state,
        created,
        // Unknown here: the backend enforces its own context size and parallelism.
        contextSize: 0,
        parallel: 0,
        busySequences: busy.get(model) ?? 0,
        queueDepth: 0,
        speculative: { mode: "none", active: false, acceptance: null, draftTokensProposed: 0, draftTokensAccepted: 0 },
      }));
    },
    async generate(request) {
      const { path, body } = upstreamRequestBody(request);
      const { response, end } = await send(path, body, request.requestId, request.signal);
      track(request.model, 1);
      return ownedStream(events(response, request), () => {
        track(request.model, -1);
        // Closes the upstream connection when the consumer stops early, so the backend frees its slot.
        end.abort();
      });
    },
    /**
     * An OpenAI-compatible backend has no tokenizer endpoint: one generated token, and the prompt
     * tokens its usage reports (its own tokenizer and chat template).
     */
    async countTokens(request) {
      const events = await this.generate({ ...request, sampling: { ...request.sampling, maxTokens: 1 } });
      for await (const event of events) if (event.type === "done") return event.usage.promptTokens;
      throw new EngineError(request.requestId);
    },
    async embed(request) {
      const { response, end } = await send("/embeddings", upstreamEmbeddingBody(request), request.requestId, request.signal);
      track(request.model, 1);
      try {
        let json: unknown;
        try {
          json = await response.json();
        } catch {
          if (request.signal.aborted) throw request.signal.reason;
          throw failed(request.requestId, "malformed", "sent a malformed embedding list");
        }
        const parsed = EmbeddingList.safeParse(json);
        if (!parsed.success || parsed.data.data.length !== request.inputs.length)
          throw failed(request.requestId, "malformed", "sent a malformed embedding list");
        const vectors = [...parsed.data.data].sort((a, b) => a.index - b.index).map((entry) => entry.embedding);
        return { vectors, promptTokens: parsed.data.usage?.prompt_tokens ?? 0 };
      } finally {
        track(request.model, -1);
        end.abort();
      }
    },
    async [Symbol.asyncDispose]() {
      if (disposed) return;
      disposed = true;
      if (probing != null) clearInterval(probing);
      shutdown.abort(new EngineError("shutdown"));
    },
  };
}

/** The upstream error's `code` and `param` when they are plain identifiers; never its message. */
async function errorIdentifiers(response: Response): Promise<{ code?: string; param?: string }> {
  try {
    const body = (await response.json()) as { error?: { code?: unknown; param?: unknown } };
    const { code, param } = body?.error ?? {};
    return {
      ...(typeof code === "string" && IDENTIFIER.test(code) && { code }),
      ...(typeof param === "string" && IDENTIFIER.test(param) && { param }),
    };
  } catch {
    return {};
  }
}

function retryAfterHeader(value: string | null): number | undefined {
  if (value == null) return undefined;
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.ceil(seconds) : undefined;
}
