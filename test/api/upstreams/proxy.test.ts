import { afterEach, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { fixedCallerGate } from "../../support/fixed-caller-gate";
import { createOpenAiRoutes } from "../../../src/api/openai/routes";
import type { Engine } from "../../../src/inference/engine";
import { createFakeEngine } from "../../../src/inference/fake-engine";
import { EgressDeniedError, installEgressGuard } from "../../../src/residency/egress-guard";
import { createCircuitBreaker } from "../../../src/upstreams/circuit-breaker";
import { createRoutingEngine } from "../../../src/upstreams/routing-engine";
import { createUpstreamEngine, type UpstreamConfig } from "../../../src/upstreams/upstream-engine";
import { createTestApp, memoryLogger, request } from "../../support/test-app";
import { countingFetch, startFakeUpstream } from "./fake-upstream";

const API_KEY = "sk-upstream-7f3a9c2e1b";
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface ProxyOptions {
  upstreams: UpstreamConfig[];
  local?: Engine;
  allowedRegions?: string[] | null;
  /** Stands in for the /v1 gate setting a key's own regions on every request. */
  keyRegions?: string[];
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
  now?: () => number;
}

/** The real app and OpenAI routes over local + upstream engines behind the router, logging at debug into memory. */
function proxyApp(options: ProxyOptions) {
  const { logger, lines } = memoryLogger("debug");
  const now = options.now ?? Date.now;
  const upstreams = options.upstreams.map((upstream) =>
    createUpstreamEngine({ upstream, apiKey: API_KEY, logger, fetch: options.fetch, now, breaker: createCircuitBreaker({ failureThreshold: 2, cooldownMs: 30_000, now }) }),
  );
  const routing = createRoutingEngine({
    local: options.local ?? createFakeEngine({ models: [{ id: "fake" }] }),
    upstreams,
    allowedRegions: options.allowedRegions === undefined ? ["eu-1", "eu-2"] : options.allowedRegions,
    localRegion: "eu-1",
    logger,
  });
  const keyRegions = options.keyRegions;
  const engine: Engine =
    keyRegions == null
      ? routing
      : {
          ...routing,
          start: () => routing.start(),
          isReady: () => routing.isReady(),
          models: () => routing.models(),
          generate: (r) => routing.generate({ ...r, allowedRegions: keyRegions }),
          embed: (r) => routing.embed({ ...r, allowedRegions: keyRegions }),
          [Symbol.asyncDispose]: () => routing[Symbol.asyncDispose](),
        };
  const { app } = createTestApp({ engine, logger, routes: [createOpenAiRoutes({ engine, gate: fixedCallerGate() })] });
  cleanups.push(() => engine[Symbol.asyncDispose]());
  return { app, engine, upstreams, lines };
}

function listen(app: ReturnType<typeof proxyApp>["app"]) {
  app.listen({ port: 0, hostname: "127.0.0.1" });
  cleanups.push(() => app.stop(true));
  return new OpenAI({ apiKey: "client-key", baseURL: `http://127.0.0.1:${app.server!.port}/v1`, maxRetries: 0 });
}

function fakeUpstream(options: Parameters<typeof startFakeUpstream>[0] = {}) {
  const upstream = startFakeUpstream(options);
  cleanups.push(upstream.stop);
  return upstream;
}

const post = (path: string, json: unknown) => request(path, { method: "POST", json });
const chatBody = (model: string, content = "hello", extra: object = {}) => ({ model, messages: [{ role: "user", content }], ...extra });

describe("serving models through an upstream OpenAI-compatible engine", () => {
  test("Should stream an upstream's tokens one chunk each, as they come, in OpenAI's chunk format - read by the official SDK", async () => {
    const { promise: released, resolve: release } = Promise.withResolvers<void>();
    const upstream = fakeUpstream({ holdAfterFirst: released });
    const { app } = proxyApp({ upstreams: [{ id: "vllm-eu", url: upstream.url, region: "eu-1", models: ["big"], weight: 1, kind: "openai", probe_seconds: 2 }] });
    const client = listen(app);

    const stream = await client.chat.completions.create({ ...chatBody("big"), stream: true, stream_options: { include_usage: true } } as OpenAI.ChatCompletionCreateParamsStreaming);
    const contents: string[] = [];
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
      const content = chunk.choices[0]?.delta.content;
      if (content) contents.push(content);
      // The upstream holds every later token until the first has reached the client.
      if (contents.length === 1 && content) release();
    }
    expect(contents).toEqual(["Hello", " from", " upstream", "!"]);
    expect(chunks.every((chunk) => chunk.object === "chat.completion.chunk" && chunk.id.startsWith("chatcmpl-") && chunk.model === "big")).toBe(true);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe("stop");
    expect(chunks.at(-1)?.usage).toEqual({ prompt_tokens: 11, completion_tokens: 4, total_tokens: 15 });
    expect(upstream.received).toHaveLength(1);
    expect(upstream.received[0]?.path).toBe("/v1/chat/completions");
    expect(upstream.received[0]?.body).toMatchObject({ model: "big", stream: true, messages: [{ role: "user", content: "hello" }] });
  });

  test("Should answer non-streaming chat, completions and embeddings through the upstream - and list its model", async () => {
    const upstream = fakeUpstream();
    const { app } = proxyApp({ upstreams: [{ id: "vllm-eu", url: upstream.url, region: "eu-2", models: ["big"], weight: 1, kind: "openai", probe_seconds: 2 }] });
    const client = listen(app);
    expect((await client.models.list()).data.map((m) => m.id)).toEqual(["fake", "big"]);
    const completion = await client.chat.completions.create(chatBody("big") as OpenAI.ChatCompletionCreateParamsNonStreaming);
    expect(completion.choices[0]?.message.content).toBe("Hello from upstream!");
    expect(completion.usage).toEqual({ prompt_tokens: 11, completion_tokens: 4, total_tokens: 15 });
    const text = await client.completions.create({ model: "big", prompt: "once", max_tokens: 8 });
    expect(text.choices[0]?.text).toBe("Hello from upstream!");
    const embeddings = await client.embeddings.create({ model: "big", input: ["ab", "cde"], encoding_format: "float" });
    expect(embeddings.data.map((d) => d.embedding)).toEqual([
      [2, 0],
      [3, 1],
    ]);
    expect(upstream.received.map((r) => r.path)).toEqual(["/v1/chat/completions", "/v1/completions", "/v1/embeddings"]);
  });

  test("Should route by model: the local model stays local, the upstream's model goes upstream", async () => {
    const upstream = fakeUpstream();
    const { app } = proxyApp({ upstreams: [{ id: "vllm-eu", url: upstream.url, region: "eu-1", models: ["big"], weight: 1, kind: "openai", probe_seconds: 2 }] });
    const local = await (await app.handle(post("/v1/chat/completions", chatBody("fake", "count 1 2 3", { max_tokens: 2 })))).json();
    expect(local.choices[0].message.content).toBe(" 4 5");
    expect(upstream.received).toHaveLength(0);
    const remote = await (await app.handle(post("/v1/chat/completions", chatBody("big")))).json();
    expect(remote.choices[0].message.content).toBe("Hello from upstream!");
    expect(upstream.received).toHaveLength(1);
  });

  test("Should serve locally first and overflow to the upstream when the local queue is full", async () => {
    const upstream = fakeUpstream();
    const local = createFakeEngine({ models: [{ id: "shared", parallel: 1, queueSize: 0 }], tokenDelayMs: 5, naturalLength: 20 });
    await local.start();
    const { app } = proxyApp({ local, upstreams: [{ id: "vllm-eu", url: upstream.url, region: "eu-1", models: ["shared"], weight: 1, kind: "openai", probe_seconds: 2 }] });
    // A stream holds the one local sequence.
    const held = await app.handle(post("/v1/chat/completions", chatBody("shared", "count 1", { stream: true })));
    expect(held.status).toBe(200);
    const overflow = await (await app.handle(post("/v1/chat/completions", chatBody("shared")))).json();
    expect(overflow.choices[0].message.content).toBe("Hello from upstream!");
    expect(upstream.received).toHaveLength(1);
    await held.text();
    const back = await (await app.handle(post("/v1/chat/completions", chatBody("shared", "count 1", { max_tokens: 2 })))).json();
    expect(back.choices[0].message.content).toBe(" 2 3");
    expect(upstream.received).toHaveLength(1);
  });

  test("Should never call an upstream in a region [residency] does not allow - 403 residency_violation when it is the only backend", async () => {
    const upstream = fakeUpstream();
    const { app } = proxyApp({ allowedRegions: ["eu-1"], upstreams: [{ id: "vllm-us", url: upstream.url, region: "us-1", models: ["big"], weight: 1, kind: "openai", probe_seconds: 2 }] });
    const response = await app.handle(post("/v1/chat/completions", chatBody("big")));
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({
      error: {
        message: "model 'big' is served only in region 'us-1'; allowed by [residency]: eu-1",
        type: "permission_error",
        param: "model",
        code: "residency_violation",
        rule: "residency.allowed_regions",
      },
    });
    expect(upstream.received).toHaveLength(0);
  });

  test("Should narrow to a key's own regions - 403 residency_violation naming the key's rule, no upstream called", async () => {
    const upstream = fakeUpstream();
    const { app } = proxyApp({ keyRegions: ["eu-2"], upstreams: [{ id: "vllm-eu1", url: upstream.url, region: "eu-1", models: ["big"], weight: 1, kind: "openai", probe_seconds: 2 }] });
    for (const body of [chatBody("big"), chatBody("fake")]) {
      const response = await app.handle(post("/v1/chat/completions", body));
      expect(response.status).toBe(403);
      const { error } = await response.json();
      expect(error).toMatchObject({ code: "residency_violation", rule: "key.allowed_regions" });
      expect(error.message).toEndWith("allowed for this API key: eu-2");
    }
    const embeddings = await app.handle(post("/v1/embeddings", { model: "big", input: "x" }));
    expect(embeddings.status).toBe(403);
    expect(upstream.received).toHaveLength(0);
  });

  test("Should answer 503 with Retry-After when the upstream is down - and open the breaker: no connection until the cooldown", async () => {
    const upstream = startFakeUpstream();
    const url = upstream.url;
    upstream.stop();
    let now = 1_000_000;
    const counting = countingFetch();
    const { app, engine } = proxyApp({ now: () => now, fetch: counting.fetch, upstreams: [{ id: "vllm-down", url, region: "eu-1", models: ["big"], weight: 1, kind: "openai", probe_seconds: 2 }] });

    for (let attempt = 1; attempt <= 2; attempt++) {
      const response = await app.handle(post("/v1/chat/completions", chatBody("big")));
      expect(response.status).toBe(503);
      expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect((await response.json()).error).toMatchObject({ type: "overloaded", code: "upstream_unavailable" });
    }
    expect(counting.calls).toHaveLength(2);
    expect(engine.models().find((m) => m.id === "big")?.state).toBe("failed");

    const refused = await app.handle(post("/v1/chat/completions", chatBody("big", "hi", { stream: true })));
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("30");
    expect(counting.calls).toHaveLength(2);

    now += 30_000;
    const trial = await app.handle(post("/v1/chat/completions", chatBody("big")));
    expect(trial.status).toBe(503);
    expect(counting.calls).toHaveLength(3);
  });

  test("Should answer 502 when the upstream fails with a 5xx", async () => {
    const upstream = fakeUpstream({ status: 500 });
    const { app } = proxyApp({ upstreams: [{ id: "vllm-eu", url: upstream.url, region: "eu-1", models: ["big"], weight: 1, kind: "openai", probe_seconds: 2 }] });
    const response = await app.handle(post("/v1/chat/completions", chatBody("big")));
    expect(response.status).toBe(502);
    expect(response.headers.get("retry-after")).not.toBeNull();
    expect((await response.json()).error).toMatchObject({ type: "api_error", code: "upstream_error", upstream: "vllm-eu", upstream_status: 500 });
  });

  test("Should pass the proxy through an egress guard that allows the upstream's host - and refuse an undeclared host before connecting", async () => {
    const upstream = fakeUpstream();
    const guard = installEgressGuard({ allowedHosts: ["127.0.0.1"] });
    cleanups.push(() => guard[Symbol.dispose]());
    const { app } = proxyApp({
      upstreams: [
        { id: "vllm-eu", url: upstream.url, region: "eu-1", models: ["big"], weight: 1, kind: "openai", probe_seconds: 2 },
        { id: "undeclared", url: "http://upstream.eu.example/v1", region: "eu-1", models: ["other"], weight: 1, kind: "openai", probe_seconds: 2 },
      ],
    });
    const ok = await app.handle(post("/v1/chat/completions", chatBody("big")));
    expect(ok.status).toBe(200);
    expect((await ok.json()).choices[0].message.content).toBe("Hello from upstream!");

    const refused = await app.handle(post("/v1/chat/completions", chatBody("other")));
    expect(refused.status).toBe(503);
    expect(guard.refused).toEqual(["upstream.eu.example"]);
    await expect(fetch("https://telemetry.example/ping")).rejects.toBeInstanceOf(EgressDeniedError);
  });
});

describe("zero data retention on the proxy path", () => {
  test("Should log no prompt, no answer and no upstream key - across streaming, errors and failures at debug level", async () => {
    const canary = `canary-${crypto.randomUUID()}`;
    const upstream = fakeUpstream({ tokens: ["echo:", ` ${canary}-answer`] });
    const rejecting = fakeUpstream({ status: 400 });
    const down = startFakeUpstream();
    down.stop();
    const { app, lines } = proxyApp({
      upstreams: [
        { id: "vllm-eu", url: upstream.url, region: "eu-1", models: ["big"], weight: 1, kind: "openai", probe_seconds: 2 },
        { id: "vllm-rejects", url: rejecting.url, region: "eu-1", models: ["picky"], weight: 1, kind: "openai", probe_seconds: 2 },
        { id: "vllm-down", url: down.url, region: "eu-1", models: ["gone"], weight: 1, kind: "openai", probe_seconds: 2 },
      ],
    });

    const streamed = await (await app.handle(post("/v1/chat/completions", chatBody("big", `remember ${canary}`, { stream: true })))).text();
    expect(streamed).toContain(`${canary}-answer`);
    const plain = await (await app.handle(post("/v1/completions", { model: "big", prompt: `say ${canary}` }))).json();
    expect(plain.choices[0].text).toContain(canary);
    expect((await app.handle(post("/v1/embeddings", { model: "big", input: [canary] }))).status).toBe(200);

    // The upstream's error message echoes the input: the client gets its status and code only.
    const rejected = await app.handle(post("/v1/chat/completions", chatBody("picky", canary)));
    expect(rejected.status).toBe(400);
    const rejectedBody = await rejected.text();
    expect(rejectedBody).not.toContain(canary);
    expect(JSON.parse(rejectedBody).error).toMatchObject({ type: "invalid_request_error", code: "upstream_rejected", message: expect.stringContaining("(bad_thing)"), upstream: "vllm-rejects", upstream_status: 400 });
    expect((await app.handle(post("/v1/chat/completions", chatBody("gone", canary)))).status).toBe(503);

    // Everything reached the upstreams, with their key...
    expect(upstream.received.every((r) => r.authorization === `Bearer ${API_KEY}`)).toBe(true);
    expect(JSON.stringify(upstream.received)).toContain(canary);
    // ...and none of it reached a log line.
    expect(lines.length).toBeGreaterThan(0);
    const log = lines.join("\n");
    expect(log).toContain("routing to upstream");
    expect(log).not.toContain(canary);
    expect(log).not.toContain(API_KEY);
  });
});
