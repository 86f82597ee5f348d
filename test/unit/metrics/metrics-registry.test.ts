import { describe, expect, test } from "bun:test";
import { configSchema } from "../../../src/config/schema";
import { decorateEngine } from "../../../src/inference/decorate-engine";
import { createFakeEngine } from "../../../src/inference/fake-engine";
import type { GenerationEvent } from "../../../src/inference/types";
import { generationRequest } from "../../support/generation-request";
import type { UsageEvent } from "../../../src/metering/usage-recorder";
import { limitReason } from "../../../src/metrics/limit-reason";
import { runtimeInfoOf } from "../../../src/metrics/llama-runtime-info";
import { createMetrics } from "../../../src/metrics/metrics-registry";
import { parseExposition, valueOf } from "./exposition";

const metricsWith = (metrics: Record<string, unknown> = {}) => createMetrics({ config: configSchema.parse({ metrics }), version: "9.9.9" });
const samplesOf = async (metrics: ReturnType<typeof createMetrics>) => parseExposition(await metrics.render()).samples;

const usage = (keyId: string, queueMs: number, status = 200): UsageEvent =>
  ({ id: `u-${Math.random()}`, keyId, accountId: "a", endpoint: "POST /v1/chat/completions", model: "fake", startedAt: new Date(), queueMs, ttftMs: 1, durationMs: 2, promptTokens: 1, completionTokens: 1, draftTokensAccepted: null, costMicros: 0, status, errorCode: null, clientIp: null }) as UsageEvent;

describe("metrics registry", () => {
  test.each([
    ["concurrency_queue_full", "concurrency"],
    ["concurrency_wait_exceeded", "concurrency"],
    ["rate_limit_requests", "rpm"],
    ["rate_limit_tokens", "tpm"],
    ["budget_exceeded", "budget"],
    ["insufficient_quota", "credits"],
    ["something_new", "other"],
    [null, "other"],
  ] as const)("Should map 429 code %p to reason %p", (code, reason) => {
    expect(limitReason(code)).toBe(reason);
  });

  test("Should use its own registry - two instances do not share series", async () => {
    const first = metricsWith();
    const second = metricsWith();
    first.requestStarted()({ method: "GET", route: "/health", status: 200, durationMs: 1, errorCode: null });
    expect(valueOf(await samplesOf(first), "enclave_http_requests_total", { route: "/health" })).toBe(1);
    expect(valueOf(await samplesOf(second), "enclave_http_requests_total", { route: "/health" })).toBeUndefined();
  });

  test("Should read speculative state from engine.models() at scrape time", async () => {
    const metrics = metricsWith();
    const engine = metrics.instrument(createFakeEngine({ models: [{ id: "spec", speculative: "draft" }, { id: "plain" }] }));
    const samples = await samplesOf(metrics);
    expect(valueOf(samples, "enclave_speculative_drafting", { model: "spec", mode: "draft" })).toBe(1);
    expect(valueOf(samples, "enclave_speculative_drafting", { model: "plain", mode: "none" })).toBe(0);
    expect(valueOf(samples, "enclave_speculative_draft_tokens_proposed_total", { model: "spec" })).toBe(0);
    expect(valueOf(samples, "enclave_speculative_acceptance_ratio", { model: "spec" })).toBeUndefined(); // no data yet
    expect(valueOf(samples, "enclave_model_state", { model: "spec", state: "unloaded" })).toBe(1);
    expect(valueOf(samples, "enclave_models_loaded")).toBe(0);
    await engine[Symbol.asyncDispose]();
  });

  test("Should expose build info, and VRAM only once a GPU runtime is attached", async () => {
    const metrics = metricsWith();
    let samples = await samplesOf(metrics);
    expect(valueOf(samples, "enclave_build_info", { version: "9.9.9", llama_cpp_release: "unknown" })).toBe(1);
    expect(samples.some((sample) => sample.name.startsWith("enclave_vram"))).toBe(false);

    metrics.setRuntime(runtimeInfoOf({ gpu: false, llamaCppRelease: { repo: "ggml-org/llama.cpp", release: "b6000" }, getVramState: async () => ({ used: 1, total: 2, free: 1, unifiedSize: 0 }) }));
    samples = await samplesOf(metrics);
    expect(valueOf(samples, "enclave_build_info", { llama_cpp_release: "b6000", gpu_backend: "cpu" })).toBe(1);
    expect(samples.some((sample) => sample.name.startsWith("enclave_vram"))).toBe(false);

    metrics.setRuntime(runtimeInfoOf({ gpu: "cuda", llamaCppRelease: { repo: "ggml-org/llama.cpp", release: "b6000" }, getVramState: async () => ({ used: 3e9, total: 8e9, free: 5e9, unifiedSize: 0 }) }));
    samples = await samplesOf(metrics);
    expect(valueOf(samples, "enclave_vram_used_bytes", { gpu_backend: "cuda" })).toBe(3e9);
    expect(valueOf(samples, "enclave_vram_total_bytes", { gpu_backend: "cuda" })).toBe(8e9);
  });

  test("Should leave the VRAM series out of a scrape whose VRAM read fails - absent rather than wrong", async () => {
    const metrics = metricsWith();
    metrics.setRuntime({ llamaCppRelease: "b1", gpuBackend: "vulkan", vramState: () => Promise.reject(new Error("device lost")) });
    const samples = await samplesOf(metrics);
    expect(valueOf(samples, "enclave_vram_used_bytes")).toBeUndefined();
  });

  test("Should observe the gate's usage rows without key ids - unless key_labels is on", async () => {
    const rows: UsageEvent[] = [];
    const inner = { record: async (event: UsageEvent) => void rows.push(event) };
    const plain = metricsWith();
    plain.observeUsage(inner).record(usage("key_a", 1500));
    let samples = await samplesOf(plain);
    expect(valueOf(samples, "enclave_limits_queue_wait_seconds_count")).toBe(1);
    expect(valueOf(samples, "enclave_limits_queue_wait_seconds_bucket", { le: "1" })).toBe(0);
    expect(valueOf(samples, "enclave_limits_queue_wait_seconds_bucket", { le: "2.5" })).toBe(1);
    expect(samples.some((sample) => "key_id" in sample.labels)).toBe(false);

    const labelled = metricsWith({ key_labels: true });
    const recorder = labelled.observeUsage(inner);
    recorder.record(usage("key_a", 0));
    recorder.record(usage("key_b", 0, 429));
    samples = await samplesOf(labelled);
    expect(valueOf(samples, "enclave_limits_queue_wait_seconds_count", { key_id: "key_a" })).toBe(1);
    expect(valueOf(samples, "enclave_key_requests_total", { key_id: "key_b", status: "429" })).toBe(1);
    expect(rows).toHaveLength(3);
  });

  test("Should count purges and read the audit chain length when those hooks are used", async () => {
    const metrics = metricsWith();
    // Registered from the start (the README lists it); 0 until the served store attaches its reader.
    expect(valueOf(await samplesOf(metrics), "enclave_audit_chain_length")).toBe(0);
    metrics.recordPurge(7);
    metrics.recordPurge(0);
    let length = 3;
    metrics.setAuditChainLength(async () => length);
    length = 4;
    const samples = await samplesOf(metrics);
    expect(valueOf(samples, "enclave_retention_purge_runs_total")).toBe(2);
    expect(valueOf(samples, "enclave_retention_rows_purged_total")).toBe(7);
    expect(valueOf(samples, "enclave_audit_chain_length")).toBe(4);
  });

  test("Should refuse to instrument a second engine - the scrape reads one engine's models", () => {
    const metrics = metricsWith();
    metrics.instrument(createFakeEngine());
    expect(() => metrics.instrument(createFakeEngine())).toThrow("already");
  });
});

describe("prompt cache metrics", () => {
  test("Should count prompt-cache queries, hits and hit tokens - from each generation's cached token count", async () => {
    const metrics = metricsWith();
    let cached = 0;
    const engine = metrics.instrument(
      decorateEngine(createFakeEngine(), {
        generate: async () =>
          (async function* (): AsyncGenerator<GenerationEvent> {
            yield { type: "done", finishReason: "stop", toolCalls: [], usage: { promptTokens: 50, completionTokens: 1, cachedTokens: cached } };
          })(),
      }),
    );
    for (const tokens of [0, 30, 45]) {
      cached = tokens;
      for await (const _event of await engine.generate(generationRequest())) {
        // drain
      }
    }
    const samples = await samplesOf(metrics);
    expect(valueOf(samples, "enclave_prompt_cache_queries_total", { model: "fake" })).toBe(3);
    expect(valueOf(samples, "enclave_prompt_cache_hits_total", { model: "fake" })).toBe(2);
    expect(valueOf(samples, "enclave_prompt_cache_hit_tokens_total", { model: "fake" })).toBe(75);
  });
});
