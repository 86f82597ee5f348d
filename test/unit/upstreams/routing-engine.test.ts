import { describe, expect, test } from "bun:test";
import { ModelNotFoundError, OverloadedError } from "../../../src/errors";
import type { Engine } from "../../../src/inference/engine";
import { createFakeEngine } from "../../../src/inference/fake-engine";
import type { GenerationRequest } from "../../../src/inference/types";
import { createCircuitBreaker } from "../../../src/upstreams/circuit-breaker";
import { createRoutingEngine } from "../../../src/upstreams/routing-engine";
import { createUpstreamEngine, type UpstreamEngine } from "../../../src/upstreams/upstream-engine";
import { ResidencyViolationRequestError } from "../../../src/upstreams/upstream-errors";
import { generationRequest } from "../../support/generation-request";

type Behaviour = "ok" | "down" | "busy";

/** An upstream engine over a scripted fetch that answers with its own id as the text. */
function upstream(id: string, region: string, models: string[], options: { weight?: number; behaviour?: Behaviour } = {}) {
  const calls: string[] = [];
  const state = { behaviour: options.behaviour ?? "ok" };
  const engine = createUpstreamEngine({
    upstream: { id, url: `http://${id}.test/v1`, region, models, weight: options.weight ?? 1, kind: "openai", probe_seconds: 2 },
    breaker: createCircuitBreaker({ failureThreshold: 1, cooldownMs: 60_000, now: () => 0 }),
    fetch: async (url) => {
      calls.push(url);
      if (state.behaviour === "down") throw new TypeError("connection refused");
      if (state.behaviour === "busy") return new Response("", { status: 503, headers: { "retry-after": "2" } });
      if (url.endsWith("/embeddings")) return Response.json({ data: [{ index: 0, embedding: [1] }], usage: { prompt_tokens: 1 } });
      const body = [{ choices: [{ index: 0, delta: { content: id } }] }, { choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }];
      return new Response(body.map((c) => `data: ${JSON.stringify(c)}\n\n`).join("") + "data: [DONE]\n\n");
    },
  });
  return { engine, calls, state };
}

function request(model: string, overrides: Parameters<typeof generationRequest>[0] = {}): GenerationRequest {
  return generationRequest({
    requestId: crypto.randomUUID(),
    model,
    input: { kind: "chat", messages: [{ role: "user", content: "count 1 2 3" }], tools: [], toolChoice: "none" },
    sampling: { maxTokens: 3, temperature: 1 },
    ...overrides,
  });
}

async function text(engine: Engine, req: GenerationRequest): Promise<string> {
  let out = "";
  for await (const event of await engine.generate(req)) if (event.type === "text") out += event.text;
  return out;
}

function router(upstreams: UpstreamEngine[], options: { allowedRegions?: string[] | null; localRegion?: string; random?: () => number; local?: Engine } = {}) {
  const local = options.local ?? createFakeEngine({ models: [{ id: "local-model" }] });
  return createRoutingEngine({
    local,
    upstreams,
    allowedRegions: options.allowedRegions === undefined ? ["eu-1", "eu-2"] : options.allowedRegions,
    localRegion: options.localRegion ?? "eu-1",
    random: options.random,
  });
}

describe("createRoutingEngine", () => {
  test("Should serve a local model locally and an upstream-only model through its upstream", async () => {
    const a = upstream("a", "eu-1", ["big"]);
    const engine = router([a.engine]);
    expect(await text(engine, request("local-model"))).toBe(" 4 5 6");
    expect(a.calls).toHaveLength(0);
    expect(await text(engine, request("big"))).toBe("a");
    expect(a.calls).toEqual(["http://a.test/v1/chat/completions"]);
    expect((await engine.embed({ requestId: "e", model: "big", inputs: ["x"], signal: new AbortController().signal, waitForModel: true })).vectors).toEqual([[1]]);
  });

  test("Should list local and upstream models once each - an upstream outside the allowed regions not at all", () => {
    const engine = router([upstream("a", "eu-1", ["big", "local-model"]).engine, upstream("b", "eu-2", ["big"]).engine, upstream("c", "us-1", ["us-only"]).engine]);
    expect(engine.models().map((m) => [m.id, m.state])).toEqual([
      ["local-model", "unloaded"],
      ["big", "ready"],
    ]);
  });

  test("Should answer 404 for a model no backend serves", async () => {
    await expect(router([]).generate(request("nope"))).rejects.toBeInstanceOf(ModelNotFoundError);
  });

  test("Should never call an upstream outside the allowed regions - 403 residency_violation naming the rule", async () => {
    const us = upstream("us", "us-1", ["big"]);
    const error = await router([us.engine]).generate(request("big")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResidencyViolationRequestError);
    expect(error).toMatchObject({ status: 403, type: "permission_error", code: "residency_violation", details: { rule: "residency.allowed_regions" } });
    expect((error as Error).message).toBe("model 'big' is served only in region 'us-1'; allowed by [residency]: eu-1, eu-2");
    expect(us.calls).toHaveLength(0);
  });

  test("Should skip the non-compliant upstream and use the compliant one", async () => {
    const us = upstream("us", "us-1", ["big"], { weight: 1000 });
    const eu = upstream("eu", "eu-2", ["big"]);
    expect(await text(router([us.engine, eu.engine]), request("big"))).toBe("eu");
    expect(us.calls).toHaveLength(0);
  });

  test("Should narrow by the request's allowedRegions - 403 naming the key's rule when nothing is left", async () => {
    const a = upstream("a", "eu-1", ["big"]);
    const b = upstream("b", "eu-2", ["big"]);
    const engine = router([a.engine, b.engine]);
    expect(await text(engine, request("big", { allowedRegions: ["eu-2"] }))).toBe("b");
    const error = await engine.generate(request("big", { allowedRegions: ["de-1"] })).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 403, code: "residency_violation", details: { rule: "key.allowed_regions" } });
    expect((error as Error).message).toBe("model 'big' is served only in regions 'eu-1', 'eu-2'; allowed for this API key: de-1");
    expect(a.calls).toHaveLength(0);
    expect(b.calls).toHaveLength(1);
  });

  test("Should refuse a local model when the request's regions exclude this installation's", async () => {
    const error = await router([]).generate(request("local-model", { allowedRegions: ["eu-2"] })).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 403, code: "residency_violation" });
    expect((error as Error).message).toBe("model 'local-model' is served only in region 'eu-1'; allowed for this API key: eu-2");
  });

  test("Should name the rule that narrowed the request when it is not the key's own list", async () => {
    const error = await router([]).generate(request("local-model", { allowedRegions: ["eu-2"], allowedRegionsRule: "account.allowed_regions" })).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 403, code: "residency_violation", details: { rule: "account.allowed_regions" } });
    expect((error as Error).message).toBe("model 'local-model' is served only in region 'eu-1'; allowed for this API key by account.allowed_regions: eu-2");
  });

  test("Should refuse a per-request narrowing when this installation has no region label - it cannot be shown to comply", async () => {
    const error = await router([], { localRegion: "", allowedRegions: null }).generate(request("local-model", { allowedRegions: ["eu-1"] })).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 403, code: "residency_violation" });
  });

  test("Should go local first and overflow to the upstream when the local queue is full", async () => {
    const local = createFakeEngine({ models: [{ id: "shared", parallel: 1, queueSize: 0 }], tokenDelayMs: 20, naturalLength: 3 });
    const a = upstream("a", "eu-1", ["shared"]);
    const engine = router([a.engine], { local });
    const held = await engine.generate(request("shared"));
    expect(a.calls).toHaveLength(0);
    expect(await text(engine, request("shared"))).toBe("a");
    expect(a.calls).toHaveLength(1);
    for await (const _ of held);
    expect(await text(engine, request("shared"))).toBe(" 4 5 6");
    expect(a.calls).toHaveLength(1);
  });

  test("Should answer the local 503 when the local queue is full and no upstream can help", async () => {
    const local = createFakeEngine({ models: [{ id: "shared", parallel: 1, queueSize: 0 }], tokenDelayMs: 20, naturalLength: 3 });
    const a = upstream("a", "eu-1", ["shared"], { behaviour: "busy" });
    const engine = router([a.engine], { local });
    const held = await engine.generate(request("shared"));
    const error = await engine.generate(request("shared")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OverloadedError);
    expect(error).toMatchObject({ code: "queue_full" });
    expect(a.calls).toHaveLength(1);
    for await (const _ of held);
  });

  test("Should choose among upstreams by weight", async () => {
    const a = upstream("a", "eu-1", ["big"], { weight: 1 });
    const b = upstream("b", "eu-2", ["big"], { weight: 3 });
    // a holds [0, 0.25) of the range, b the rest.
    const picks = await Promise.all([0, 0.24, 0.25, 0.6, 0.99].map((r) => text(router([a.engine, b.engine], { random: () => r }), request("big"))));
    expect(picks).toEqual(["a", "a", "b", "b", "b"]);
  });

  test("Should try the next upstream when one is down - and skip it while its breaker is open", async () => {
    const a = upstream("a", "eu-1", ["big"], { behaviour: "down" });
    const b = upstream("b", "eu-2", ["big"]);
    const engine = router([a.engine, b.engine], { random: () => 0 });
    expect(await text(engine, request("big"))).toBe("b");
    expect(a.engine.breaker.state).toBe("open");
    expect(await text(engine, request("big"))).toBe("b");
    expect(a.calls).toHaveLength(1);
  });

  test("Should answer 503 with Retry-After when every upstream's breaker is open - without connecting", async () => {
    const a = upstream("a", "eu-1", ["big"], { behaviour: "down" });
    const engine = router([a.engine]);
    expect(await engine.generate(request("big")).catch((e: unknown) => e)).toMatchObject({ status: 503, code: "upstream_unavailable" });
    const error = await engine.generate(request("big")).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 503, code: "upstream_unavailable", retryAfterSeconds: 60 });
    expect(a.calls).toHaveLength(1);
    expect(engine.models().find((m) => m.id === "big")?.state).toBe("failed");
  });

  test("Should dispose the local engine and every upstream", async () => {
    const a = upstream("a", "eu-1", ["big"]);
    const engine = router([a.engine]);
    await engine[Symbol.asyncDispose]();
    expect(a.engine.isReady()).toBe(false);
  });
});
