import { OverloadedError } from "../errors";
import type { Engine } from "../inference/engine";
import type { EmbeddingRequest, GenerationEvent, GenerationRequest, ModelStatus } from "../inference/types";
import type { Logger } from "../logging/logger";
import { createPrefixAffinity } from "./prefix-affinity";
import type { UpstreamEngine } from "./upstream-engine";
import { ResidencyViolationRequestError, UpstreamUnavailableError } from "./upstream-errors";

export interface RoutingEngineOptions {
  /** This installation's engine; it runs in `localRegion`. */
  local: Engine;
  upstreams: UpstreamEngine[];
  /** Regions data may be processed in (`[residency]`); null: not restricted. */
  allowedRegions: readonly string[] | null;
  /** `[residency] region`; "" when not labelled. */
  localRegion: string;
  logger?: Logger;
  /** In [0, 1), for the weighted choice among upstreams; default Math.random. */
  random?: () => number;
}

type Request = GenerationRequest | EmbeddingRequest;

/** Requests more than the least loaded backend that the one holding a conversation's cache may have and still be preferred. */
const AFFINITY_SLACK = 1;

/**
 * One Engine over the local engine and the declared upstreams. A model served here runs here
 * first; when the local queue is full (or its model is still loading) the request overflows to a
 * healthy upstream serving the model. A model served only upstream goes to its upstreams, chosen
 * by weight, the next one tried when one is unreachable, at capacity or failing. A backend outside
 * the allowed regions (`[residency]`, narrowed per request by `allowedRegions`) is never called;
 * when no backend is left, the answer is 403 `residency_violation` naming the rule.
 */
export interface RoutingEngine extends Engine {
  /** Stops its upstreams' probes when a reload replaced it; requests still running on it finish. */
  retire(): void;
}

export function createRoutingEngine(options: RoutingEngineOptions): RoutingEngine {
  const { local, upstreams, allowedRegions, localRegion, logger } = options;
  const random = options.random ?? Math.random;
  const affinity = createPrefixAffinity();

  const upstreamsFor = (model: string) => upstreams.filter((upstream) => upstream.servedModels.includes(model));
  const servedLocally = (model: string) => local.models().some((status) => status.id === model);
  const allowedByConfig = (region: string) => allowedRegions == null || allowedRegions.includes(region);
  const allowedFor = (request: Request, region: string) => allowedByConfig(region) && (request.allowedRegions == null || request.allowedRegions.includes(region));
  /** Start-up checked this installation against [residency]; a request's own list needs its label. */
  const localAllowedFor = (request: Request) =>
    localRegion === "" ? request.allowedRegions == null : allowedFor(request, localRegion);

  function violation(request: Request, localServes: boolean, candidates: UpstreamEngine[]): ResidencyViolationRequestError {
    const regions = [...new Set([...(localServes ? [localRegion || "(this installation, no region set)"] : []), ...candidates.map((upstream) => upstream.region)])];
    const served = `model '${request.model}' is served only in region${regions.length > 1 ? "s" : ""} ${regions.map((region) => `'${region}'`).join(", ")}`;
    // Which rule left nothing: [residency] itself, or the request's narrower list.
    const byConfig = localServes || candidates.some((upstream) => allowedByConfig(upstream.region));
    if (!byConfig || request.allowedRegions == null)
      return new ResidencyViolationRequestError(`${served}; allowed by [residency]: ${(allowedRegions ?? []).join(", ") || "none"}`, {
        rule: "residency.allowed_regions",
      });
    const rule = request.allowedRegionsRule ?? "key.allowed_regions";
    const by = rule === "key.allowed_regions" ? "" : ` by ${rule}`;
    return new ResidencyViolationRequestError(`${served}; allowed for this API key${by}: ${request.allowedRegions.join(", ") || "none"}`, { rule });
  }

  /** Weighted order without replacement: the first is chosen by weight, then the next among the rest. */
  function weightedOrder(candidates: UpstreamEngine[]): UpstreamEngine[] {
    const pool = [...candidates];
    const order: UpstreamEngine[] = [];
    while (pool.length > 0) {
      const total = pool.reduce((sum, upstream) => sum + upstream.weight, 0);
      let pick = random() * total;
      const index = Math.max(0, pool.findIndex((upstream) => (pick -= upstream.weight) < 0));
      order.push(...pool.splice(index, 1));
    }
    return order;
  }

  /** Least loaded first, weight breaking ties; the conversation's previous backend ahead when it is nearly as free. */
  function upstreamOrder(request: Request, ready: UpstreamEngine[]): UpstreamEngine[] {
    const order = weightedOrder(ready).sort((a, b) => a.load(request.model) - b.load(request.model));
    const previous = "input" in request ? affinity.preferred(request) : undefined;
    const held = order.findIndex((upstream) => upstream.id === previous);
    if (held > 0 && order[held]!.load(request.model) <= order[0]!.load(request.model) + AFFINITY_SLACK) order.unshift(...order.splice(held, 1));
    return order;
  }

  /**
   * Tries the compliant upstreams in order (upstreamOrder). A backend that is unreachable, failing
   * or at capacity passes the request on; anything else (a client error, an abort) ends the attempt.
   */
  async function viaUpstreams<T>(request: Request, compliant: UpstreamEngine[], call: (upstream: UpstreamEngine) => Promise<T>): Promise<T> {
    const ready = compliant.filter((upstream) => upstream.breaker.canAttempt());
    if (ready.length === 0) {
      const seconds = Math.min(...compliant.map((upstream) => upstream.breaker.retryAfterSeconds() || 1));
      throw new UpstreamUnavailableError({
        status: 503,
        code: "upstream_unavailable",
        message: `no upstream serving model '${request.model}' is available; retry in ${seconds} s`,
        retryAfterSeconds: seconds,
        details: { model: request.model },
      });
    }
    let last: unknown;
    for (const upstream of upstreamOrder(request, ready)) {
      logger?.debug({ requestId: request.requestId, model: request.model, upstream: upstream.id }, "routing to upstream");
      try {
        const result = await call(upstream);
        if ("input" in request) affinity.remember(request, upstream.id);
        return result;
      } catch (error) {
        if (!(error instanceof UpstreamUnavailableError) || request.signal.aborted) throw error;
        last = error;
      }
    }
    throw last;
  }

  async function route<T>(request: Request, call: (engine: Engine) => Promise<T>, callUpstream: (engine: Engine) => Promise<T> = call): Promise<T> {
    const serving = upstreamsFor(request.model);
    const localServes = servedLocally(request.model);
    // Unknown everywhere: the local engine answers 404 as it always has.
    if (!localServes && serving.length === 0) return call(local);
    const compliant = serving.filter((upstream) => allowedFor(request, upstream.region));
    const localOk = localServes && localAllowedFor(request);
    if (!localOk && compliant.length === 0) throw violation(request, localServes, serving);
    if (!localOk) return viaUpstreams(request, compliant, callUpstream);
    try {
      return await call(local);
    } catch (error) {
      if (!(error instanceof OverloadedError) || compliant.length === 0 || request.signal.aborted) throw error;
      logger?.debug({ requestId: request.requestId, model: request.model, code: error.code }, "local engine overloaded; overflowing to upstream");
      try {
        return await viaUpstreams(request, compliant, callUpstream);
      } catch (overflow) {
        // No upstream could help either: the local answer (503 with its Retry-After) says why.
        if (overflow instanceof UpstreamUnavailableError) throw error;
        throw overflow;
      }
    }
  }

  return {
    isReady: () => local.isReady(),
    models(): ModelStatus[] {
      const statuses = local.models();
      const known = new Set(statuses.map((status) => status.id));
      for (const upstream of upstreams) {
        if (!allowedByConfig(upstream.region)) continue;
        for (const status of upstream.models()) {
          if (known.has(status.id)) continue;
          // A model served by several upstreams is ready when any of them is.
          const others = upstreams.filter((other) => other.servedModels.includes(status.id) && allowedByConfig(other.region));
          const state = others.some((other) => other.breaker.state !== "open") ? "ready" : "failed";
          statuses.push({ ...status, state, busySequences: others.reduce((sum, other) => sum + (other.models().find((s) => s.id === status.id)?.busySequences ?? 0), 0) });
          known.add(status.id);
        }
      }
      return statuses;
    },
    generate: (request) =>
      route(
        request,
        (engine) => engine.generate(request),
        (engine) => engine.generate(request).then(firstEventArrived),
      ),
    embed: (request) => route(request, (engine) => engine.embed(request)),
    countTokens: (request) => route(request, (engine) => engine.countTokens(request)),
    // Only this installation's sequences hold a cache Enclave controls.
    promptCache: local.promptCache,
    start: () => local.start(),
    retire() {
      for (const upstream of upstreams) upstream.stopProbing();
    },
    async [Symbol.asyncDispose]() {
      await local[Symbol.asyncDispose]();
      for (const upstream of upstreams) await upstream[Symbol.asyncDispose]();
    },
  };
}

/**
 * Resolves once the stream's first event is in, so that a backend failing before its first token
 * fails the call (and the next backend is tried); the stream then goes on from that event, and
 * stopping it early still ends the backend's stream.
 */
async function firstEventArrived(stream: AsyncIterable<GenerationEvent>): Promise<AsyncIterable<GenerationEvent>> {
  const iterator = stream[Symbol.asyncIterator]();
  const first = await iterator.next();
  return (async function* () {
    try {
      if (first.done) return;
      yield first.value;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
    } finally {
      await iterator.return?.();
    }
  })();
}
