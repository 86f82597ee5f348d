import { describe, expect, test } from "bun:test";
import { parseExposition, valueOf } from "../unit/metrics/exposition";
import { request } from "../support/test-app";
import { metricsApp } from "./metrics-harness";

const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });
const chatBody = (extra: Record<string, unknown> = {}) => ({ model: "fake", messages: [{ role: "user", content: "count 1 2 3" }], max_tokens: 5, ...extra });
const post = (path: string, secret: string, json: unknown) => request(path, { method: "POST", headers: bearer(secret), json });

async function scrape(app: Awaited<ReturnType<typeof metricsApp>>["app"], headers: Record<string, string> = {}) {
  const response = await app.handle(request("/metrics", { headers }));
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
  return parseExposition(await response.text());
}

describe("GET /metrics", () => {
  test("Should be valid Prometheus exposition - every line a comment, blank, or a sample, every family typed", async () => {
    using h = await metricsApp();
    await h.engine.start();
    await h.app.handle(post("/v1/chat/completions", h.secret, chatBody()));
    const { samples, types } = await scrape(h.app);
    expect(samples.length).toBeGreaterThan(20);
    expect(types.get("enclave_time_to_first_token_seconds")).toBe("histogram");
    expect(types.get("enclave_http_requests_total")).toBe("counter");
    expect(valueOf(samples, "enclave_build_info", { version: "test" })).toBe(1);
    expect(valueOf(samples, "process_resident_memory_bytes")).toBeGreaterThan(0);
  });

  test("Should move request, token and latency series after requests through the fake engine", async () => {
    using h = await metricsApp();
    await h.engine.start();
    const before = (await scrape(h.app)).samples;
    expect(valueOf(before, "enclave_time_to_first_token_seconds_count", { model: "fake" })).toBeUndefined();

    const plain = await h.app.handle(post("/v1/chat/completions", h.secret, chatBody()));
    expect(plain.status).toBe(200);
    const streamed = await h.app.handle(post("/v1/chat/completions", h.secret, chatBody({ stream: true })));
    await streamed.text();
    const missing = await h.app.handle(post("/v1/chat/completions", h.secret, chatBody({ model: "no-such-model" })));
    expect(missing.status).toBe(404);

    const { samples } = await scrape(h.app);
    const route = "/v1/chat/completions";
    expect(valueOf(samples, "enclave_http_requests_total", { method: "POST", route, status: "200" })).toBe(2);
    expect(valueOf(samples, "enclave_http_requests_total", { method: "POST", route, status: "404" })).toBe(1);
    expect(valueOf(samples, "enclave_http_requests_in_flight")).toBe(1); // this scrape
    expect(valueOf(samples, "enclave_time_to_first_token_seconds_count", { model: "fake" })).toBe(2);
    expect(valueOf(samples, "enclave_e2e_request_latency_seconds_count", { model: "fake" })).toBe(2);
    expect(valueOf(samples, "enclave_queue_wait_seconds_count", { model: "fake" })).toBe(2);
    expect(valueOf(samples, "enclave_inter_token_latency_seconds_count", { model: "fake" })).toBe(8); // 2 x (5 tokens - 1)
    expect(valueOf(samples, "enclave_completion_tokens_total", { model: "fake" })).toBe(10);
    expect(valueOf(samples, "enclave_prompt_tokens_total", { model: "fake" })).toBe(2 * 6);
    expect(valueOf(samples, "enclave_engine_requests_total", { model: "fake", kind: "generate", outcome: "completed" })).toBe(2);
    // A model the client made up is counted, but under "unknown": clients cannot mint series.
    expect(valueOf(samples, "enclave_engine_rejections_total", { model: "unknown", code: "model_not_found" })).toBe(1);
    expect(samples.some((sample) => Object.values(sample.labels).includes("no-such-model"))).toBe(false);
    expect(valueOf(samples, "enclave_engine_requests_in_flight", { model: "fake" })).toBe(0);
    expect(valueOf(samples, "enclave_models_loaded")).toBe(1);
    expect(valueOf(samples, "enclave_model_state", { model: "fake", state: "ready" })).toBe(1);
    expect(valueOf(samples, "enclave_sequences", { model: "fake" })).toBe(8);
    expect(valueOf(samples, "enclave_sequences_busy", { model: "fake" })).toBe(0);
    expect(valueOf(samples, "enclave_queue_depth", { model: "fake" })).toBe(0);
    expect(valueOf(samples, "enclave_model_load_seconds", { model: "fake" })).toBeGreaterThanOrEqual(0);
  });

  test("Should show busy sequences and queue depth while streams hold the model", async () => {
    using h = await metricsApp({ fake: { models: [{ id: "fake", parallel: 1, queueSize: 4 }], tokenDelayMs: 20 } });
    await h.engine.start();
    const first = h.app.handle(post("/v1/completions", h.secret, { model: "fake", prompt: "1", max_tokens: 10 }));
    const second = h.app.handle(post("/v1/completions", h.secret, { model: "fake", prompt: "1", max_tokens: 10 }));
    await Bun.sleep(60);
    const { samples } = await scrape(h.app);
    expect(valueOf(samples, "enclave_sequences_busy", { model: "fake" })).toBe(1);
    expect(valueOf(samples, "enclave_queue_depth", { model: "fake" })).toBe(1);
    expect(valueOf(samples, "enclave_engine_requests_in_flight", { model: "fake" })).toBe(2);
    await Promise.all([first, second]);
  });

  test("Should count 429s by limit reason - rpm here", async () => {
    using h = await metricsApp({ config: { limits: { rpm: 1 } } });
    await h.engine.start();
    expect((await h.app.handle(post("/v1/chat/completions", h.secret, chatBody()))).status).toBe(200);
    expect((await h.app.handle(post("/v1/chat/completions", h.secret, chatBody()))).status).toBe(429);
    const { samples } = await scrape(h.app);
    expect(valueOf(samples, "enclave_rate_limited_total", { reason: "rpm" })).toBe(1);
    expect(valueOf(samples, "enclave_rate_limited_total", { reason: "concurrency" })).toBe(0);
    expect(valueOf(samples, "enclave_http_requests_total", { route: "/v1/chat/completions", status: "429" })).toBe(1);
  });

  test("Should count an unknown path under route 'unmatched' - not one series per path", async () => {
    using h = await metricsApp();
    await h.app.handle(request("/nothing/here/1?x=2"));
    await h.app.handle(request("/nothing/here/2"));
    const { samples } = await scrape(h.app);
    expect(valueOf(samples, "enclave_http_requests_total", { route: "unmatched", status: "404" })).toBe(2);
  });

  test("Should not authorize - a token is configured and the scrape sends none or a wrong one", async () => {
    using h = await metricsApp({ config: { metrics: { token: "scrape-token" } } });
    const none = await h.app.handle(request("/metrics"));
    expect(none.status).toBe(401);
    expect((await none.json()).error.type).toBe("authentication_error");
    expect((await h.app.handle(request("/metrics", { headers: bearer("scrape-tokeN") }))).status).toBe(401);
    expect((await h.app.handle(request("/metrics", { headers: bearer(h.secret) }))).status).toBe(401);
    await scrape(h.app, bearer("scrape-token"));
  });

  test("Should serve metrics at the configured path, and not at all when disabled", async () => {
    using moved = await metricsApp({ config: { metrics: { path: "/internal/prom" } } });
    expect((await moved.app.handle(request("/internal/prom"))).status).toBe(200);
    expect((await moved.app.handle(request("/metrics"))).status).toBe(404);
    using off = await metricsApp({ config: { metrics: { enabled: false } } });
    expect((await off.app.handle(request("/metrics"))).status).toBe(404);
  });
});
