import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Config } from "../config/schema";
import type { Engine } from "../inference/engine";
import type { ModelState } from "../inference/types";
import type { UsageEvent, UsageRecorder } from "../metering/usage-recorder";
import { createInstrumentedEngine, type EngineObserver } from "./instrumented-engine";
import { LIMIT_REASONS, limitReason } from "./limit-reason";

/** What the request log and the HTTP series know about one finished request: no URL query, no body, no header. */
export interface RequestRecord {
  method: string;
  /** The matched route pattern (`/v1/models/:id`); null when no route matched. */
  route: string | null;
  status: number;
  durationMs: number;
  /** The error code of an error answer (`rate_limit_requests`, `model_not_found`...). */
  errorCode: string | null;
}

/** llama.cpp facts for build info and VRAM; see runtimeInfoOf(llama) in llama-runtime-info.ts. */
export interface RuntimeInfo {
  llamaCppRelease: string;
  /** "cuda", "vulkan", "metal", or "cpu". */
  gpuBackend: string;
  /** VRAM in bytes; absent (or rejecting) on CPU-only machines. */
  vramState?: () => Promise<{ used: number; total: number }>;
}

export interface MetricsDeps {
  config: Pick<Config, "metrics">;
  version: string;
  /** Milliseconds, monotonic; default performance.now. */
  now?: () => number;
}

const MODEL_STATES: readonly ModelState[] = ["unloaded", "loading", "ready", "failed"];

const buckets = {
  ttft: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  itl: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2, 0.3, 0.5, 1],
  e2e: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 60, 120, 300],
  wait: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  http: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
};

/** Most tokens one request adds to the inter-token histogram, so a huge completion costs bounded time. */
const MAX_ITL_OBSERVATIONS = 4096;

/**
 * The Prometheus registry of one Enclave (its own Registry, never prom-client's global one) and
 * the hooks that feed it: an Engine decorator (latency histograms, tokens), a collector that reads
 * engine.models() at scrape time (models, sequences, queues, speculative decoding), the HTTP
 * request records of the app shell, the usage rows of the /v1 gate (per-key queue wait), and
 * llama.cpp's build and VRAM facts. Labels are model ids, routes, status codes, limit reasons and
 * (only with metrics.key_labels) key ids: never request content.
 */
export function createMetrics(deps: MetricsDeps) {
  const now = deps.now ?? (() => performance.now());
  const keyLabels = deps.config.metrics.key_labels;
  const registry = new Registry();
  const registers = [registry];
  let engine: Engine | null = null;
  let runtime: RuntimeInfo | null = null;
  let auditChainLength: (() => Promise<number>) | null = null;

  // HTTP
  const httpRequests = new Counter({ name: "enclave_http_requests_total", help: "HTTP requests answered, by method, route pattern and status", labelNames: ["method", "route", "status"], registers });
  const httpInFlight = new Gauge({ name: "enclave_http_requests_in_flight", help: "HTTP requests being answered (a stream counts until its last byte)", registers });
  const httpDuration = new Histogram({
    name: "enclave_http_request_duration_seconds",
    help: "HTTP request duration, to the last byte of a stream",
    labelNames: ["method", "route"],
    buckets: buckets.http,
    registers,
  });
  const rateLimited = new Counter({ name: "enclave_rate_limited_total", help: "Requests answered 429, by limit: concurrency, rpm, tpm, budget, credits", labelNames: ["reason"], registers });
  for (const reason of LIMIT_REASONS) rateLimited.inc({ reason }, 0);

  // Engine (fed by the instrumented engine)
  const engineRequests = new Counter({
    name: "enclave_engine_requests_total",
    help: "Requests that reached the engine, by model, kind (generate, embed) and outcome (completed, cancelled, failed, rejected)",
    labelNames: ["model", "kind", "outcome"],
    registers,
  });
  const engineRejections = new Counter({ name: "enclave_engine_rejections_total", help: "Requests the engine refused before streaming, by error code", labelNames: ["model", "code"], registers });
  const engineInFlight = new Gauge({ name: "enclave_engine_requests_in_flight", help: "Requests in the engine: waiting for a sequence or generating", labelNames: ["model"], registers });
  const queueWait = new Histogram({ name: "enclave_queue_wait_seconds", help: "Time a request waited for a free sequence (and a loading model)", labelNames: ["model"], buckets: buckets.wait, registers });
  const ttft = new Histogram({ name: "enclave_time_to_first_token_seconds", help: "Time from the engine call to the first generated text", labelNames: ["model"], buckets: buckets.ttft, registers });
  const itl = new Histogram({
    name: "enclave_inter_token_latency_seconds",
    help: "Decode time per output token after the first (each token counted at its request's mean)",
    labelNames: ["model"],
    buckets: buckets.itl,
    registers,
  });
  const e2e = new Histogram({ name: "enclave_e2e_request_latency_seconds", help: "Time from the engine call to the end of the generation", labelNames: ["model"], buckets: buckets.e2e, registers });
  const promptTokens = new Counter({ name: "enclave_prompt_tokens_total", help: "Prompt tokens processed (generation and embeddings)", labelNames: ["model"], registers });
  const cacheQueries = new Counter({ name: "enclave_prompt_cache_queries_total", help: "Generations that looked up the prompt cache", labelNames: ["model"], registers });
  const cacheHits = new Counter({ name: "enclave_prompt_cache_hits_total", help: "Generations that reused a cached prompt prefix of their own account (or key)", labelNames: ["model"], registers });
  const cacheHitTokens = new Counter({ name: "enclave_prompt_cache_hit_tokens_total", help: "Prompt tokens read from the prompt cache instead of evaluated", labelNames: ["model"], registers });
  const completionTokens = new Counter({ name: "enclave_completion_tokens_total", help: "Tokens generated", labelNames: ["model"], registers });
  const decodeRate = new Gauge({
    name: "enclave_decode_tokens_per_second",
    help: "Decode speed of the most recently completed generation; aggregate throughput is rate(enclave_completion_tokens_total[1m])",
    labelNames: ["model"],
    registers,
  });
  const loadSeconds = new Gauge({ name: "enclave_model_load_seconds", help: "Seconds the default model took to load at start-up", labelNames: ["model"], registers });

  const observer: EngineObserver = {
    started(model) {
      engineInFlight.inc({ model });
    },
    rejected(model, kind, code) {
      engineInFlight.dec({ model });
      engineRequests.inc({ model, kind, outcome: "rejected" });
      engineRejections.inc({ model, code });
    },
    admitted(model, seconds) {
      queueWait.observe({ model }, seconds);
    },
    finished(record) {
      const { model } = record;
      engineInFlight.dec({ model });
      engineRequests.inc({ model, kind: "generate", outcome: record.outcome });
      if (record.ttftSeconds != null) ttft.observe({ model }, record.ttftSeconds);
      e2e.observe({ model }, record.e2eSeconds);
      promptTokens.inc({ model }, record.promptTokens);
      if (record.cachedTokens != null) {
        cacheQueries.inc({ model });
        if (record.cachedTokens > 0) cacheHits.inc({ model });
        cacheHitTokens.inc({ model }, record.cachedTokens);
      }
      completionTokens.inc({ model }, record.completionTokens);
      const decoded = record.completionTokens - 1;
      if (record.decodeSeconds != null && decoded > 0 && record.decodeSeconds > 0) {
        const perToken = record.decodeSeconds / decoded;
        const modelItl = itl.labels({ model }); // the labels resolved once, not per observation
        for (let index = 0; index < Math.min(decoded, MAX_ITL_OBSERVATIONS); index++) modelItl.observe(perToken);
        decodeRate.set({ model }, 1 / perToken);
      }
    },
    embedded(model, record) {
      engineInFlight.dec({ model });
      engineRequests.inc({ model, kind: "embed", outcome: "completed" });
      promptTokens.inc({ model }, record.promptTokens);
    },
    loaded(model, seconds) {
      loadSeconds.set({ model }, seconds);
    },
  };

  // Scrape-time state of the engine's models.
  const models = () => engine?.models() ?? [];
  new Gauge({
    name: "enclave_models_loaded",
    help: "Models loaded and ready",
    registers,
    collect() {
      this.set(models().filter((model) => model.state === "ready").length);
    },
  });
  new Gauge({
    name: "enclave_model_state",
    help: "1 for each model's current state (unloaded, loading, ready, failed)",
    labelNames: ["model", "state"],
    registers,
    collect() {
      this.reset();
      for (const model of models()) for (const state of MODEL_STATES) this.set({ model: model.id, state }, model.state === state ? 1 : 0);
    },
  });
  const perModel = (name: string, help: string, value: (model: ReturnType<typeof models>[number]) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ["model"],
      registers,
      collect() {
        this.reset();
        for (const model of models()) {
          const current = value(model);
          if (current != null) this.set({ model: model.id }, current);
        }
      },
    });
  perModel("enclave_context_size_tokens", "Tokens of context per sequence", (model) => model.contextSize);
  perModel("enclave_sequences", "Sequences (llama.cpp slots) of the model's context", (model) => model.parallel);
  perModel("enclave_sequences_busy", "Sequences generating now", (model) => model.busySequences);
  perModel("enclave_queue_depth", "Requests waiting for a free sequence", (model) => model.queueDepth);
  perModel("enclave_prompt_cache_sequences", "Sequences holding an account's (or key's) cached prompt prefix", (model) => model.promptCache?.sequences ?? null);
  perModel("enclave_prompt_cache_tokens", "KV cells filled by cached prompt prefixes: the prompt cache's memory, inside the preallocated KV cache", (model) => model.promptCache?.tokens ?? null);
  perModel("enclave_prompt_cache_ram_prefixes", "Cached prompt prefixes pushed out of the sequences and kept in RAM (prompt_cache_mb)", (model) => model.promptCache?.ramPrefixes ?? null);
  perModel("enclave_prompt_cache_ram_bytes", "Bytes of RAM the prompt cache's saved KV states take", (model) => model.promptCache?.ramBytes ?? null);
  perModel("enclave_speculative_acceptance_ratio", "Accepted draft tokens / generated tokens over the recent window", (model) => model.speculative.acceptance);
  new Gauge({
    name: "enclave_speculative_drafting",
    help: "1 while speculative decoding is on for the model (adaptive drafting switches it off when it costs time), by mode",
    labelNames: ["model", "mode"],
    registers,
    collect() {
      this.reset();
      for (const model of models()) this.set({ model: model.id, mode: model.speculative.mode }, model.speculative.active ? 1 : 0);
    },
  });
  const cumulative = (name: string, help: string, value: (model: ReturnType<typeof models>[number]) => number) =>
    new Counter({
      name,
      help,
      labelNames: ["model"],
      registers,
      collect() {
        this.reset();
        for (const model of models()) this.inc({ model: model.id }, value(model));
      },
    });
  cumulative("enclave_speculative_draft_tokens_proposed_total", "Draft tokens proposed to the target model", (model) => model.speculative.draftTokensProposed);
  cumulative("enclave_speculative_draft_tokens_accepted_total", "Draft tokens the target model accepted", (model) => model.speculative.draftTokensAccepted);
  new Gauge({
    name: "enclave_speculative_time_saved_seconds",
    help: "Decode time drafted runs saved against the measured no-draft speed since start (negative when drafting cost time)",
    labelNames: ["model"],
    registers,
    collect() {
      this.reset();
      for (const model of models()) if (model.speculative.timeSavedSeconds != null) this.set({ model: model.id }, model.speculative.timeSavedSeconds);
    },
  });
  new Gauge({
    name: "enclave_speculative_decode_tokens_per_second",
    help: "Recent decode speed of uncontended runs with and without the draft, which adaptive drafting compares (their ratio is the draft's speed-up)",
    labelNames: ["model", "draft"],
    registers,
    collect() {
      this.reset();
      for (const model of models()) {
        const speeds = model.speculative.tokensPerSecond;
        if (speeds?.withDraft != null) this.set({ model: model.id, draft: "on" }, speeds.withDraft);
        if (speeds?.withoutDraft != null) this.set({ model: model.id, draft: "off" }, speeds.withoutDraft);
      }
    },
  });

  // Process and build
  const startTimeSeconds = Math.round(Date.now() / 1000 - process.uptime());
  new Gauge({
    name: "process_resident_memory_bytes",
    help: "Resident memory size in bytes",
    registers,
    collect() {
      this.set(process.memoryUsage.rss());
    },
  });
  new Counter({
    name: "process_cpu_seconds_total",
    help: "User and system CPU time spent in seconds",
    registers,
    collect() {
      const usage = process.cpuUsage();
      this.reset();
      this.inc((usage.user + usage.system) / 1e6);
    },
  });
  new Gauge({ name: "process_start_time_seconds", help: "Start time of the process since the Unix epoch in seconds", registers }).set(startTimeSeconds);
  new Gauge({
    name: "enclave_build_info",
    help: "Always 1; the labels tell the Enclave version, llama.cpp release and GPU backend",
    labelNames: ["version", "llama_cpp_release", "gpu_backend"],
    registers,
    collect() {
      this.reset();
      this.set({ version: deps.version, llama_cpp_release: runtime?.llamaCppRelease ?? "unknown", gpu_backend: runtime?.gpuBackend ?? "unknown" }, 1);
    },
  });
  /** Registered with the first GPU runtime, so a CPU-only machine exposes no VRAM series at all. */
  let vramRegistered = false;
  const registerVram = () => {
    if (vramRegistered) return;
    vramRegistered = true;
    const vramGauge = (name: string, help: string, pick: (state: { used: number; total: number }) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ["gpu_backend"],
        registers,
        async collect() {
          this.reset();
          if (runtime?.vramState == null) return;
          try {
            this.set({ gpu_backend: runtime.gpuBackend }, pick(await runtime.vramState()));
          } catch {
            // No reading this scrape: the series is absent rather than wrong.
          }
        },
      });
    vramGauge("enclave_vram_used_bytes", "GPU memory in use (llama.cpp's VRAM state)", (state) => state.used);
    vramGauge("enclave_vram_total_bytes", "GPU memory in all (llama.cpp's VRAM state)", (state) => state.total);
  };

  // Limits, retention, audit (fed by the gate's usage rows and by hooks)
  const keyQueueWait = new Histogram({
    name: "enclave_limits_queue_wait_seconds",
    help: "Time a /v1 request waited in its key's queue for a concurrency slot (to admission or refusal)",
    labelNames: keyLabels ? ["key_id"] : [],
    buckets: buckets.wait,
    registers,
  });
  const keyRequests = keyLabels
    ? new Counter({ name: "enclave_key_requests_total", help: "Metered /v1 requests by API key id and status", labelNames: ["key_id", "status"], registers })
    : null;
  const purgeRuns = new Counter({ name: "enclave_retention_purge_runs_total", help: "Retention purge runs (scheduled and on demand)", registers });
  const rowsPurged = new Counter({ name: "enclave_retention_rows_purged_total", help: "Rows removed by retention purges", registers });
  // Registered with the rest, so the series the README lists all exist; it has a value once the served store attaches its reader.
  new Gauge({
    name: "enclave_audit_chain_length",
    help: "Entries in the hash-chained admin audit log",
    registers,
    async collect() {
      this.reset();
      if (auditChainLength != null) this.set(await auditChainLength());
    },
  });
  return {
    registry,
    contentType: registry.contentType,
    /** The exposition text of every series. */
    render: () => registry.metrics(),

    /** The engine the API should use: `inner` with its timings recorded; its models() feed the scrape. One engine per registry. */
    instrument(inner: Engine): Engine {
      if (engine != null) throw new Error("metrics already instrument an engine");
      engine = inner;
      return createInstrumentedEngine(inner, observer, now);
    },

    /** Called by the app shell as a request starts; the returned function records its end (once). */
    requestStarted(): (record: RequestRecord) => void {
      httpInFlight.inc();
      let ended = false;
      return (record) => {
        if (ended) return;
        ended = true;
        httpInFlight.dec();
        const route = record.route ?? "unmatched";
        httpRequests.inc({ method: record.method, route, status: String(record.status) });
        httpDuration.observe({ method: record.method, route }, record.durationMs / 1000);
        if (record.status === 429) rateLimited.inc({ reason: limitReason(record.errorCode) });
      };
    },

    /** The gate's usage recorder with each row also feeding the per-key series (queue wait; requests by key with key_labels). */
    observeUsage(recorder: UsageRecorder): UsageRecorder {
      return {
        record(event: UsageEvent) {
          const written = recorder.record(event);
          if (keyLabels) keyQueueWait.observe({ key_id: event.keyId }, event.queueMs / 1000);
          else keyQueueWait.observe(event.queueMs / 1000);
          keyRequests?.inc({ key_id: event.keyId, status: String(event.status) });
          return written;
        },
      };
    },

    /** llama.cpp's release, GPU backend and VRAM reader, once llama.cpp is loaded. */
    setRuntime(info: RuntimeInfo) {
      runtime = info;
      if (info.vramState != null) registerVram();
    },
    /** For the retention job: one purge run that removed `rows` rows. */
    recordPurge(rows: number) {
      purgeRuns.inc();
      rowsPurged.inc(rows);
    },
    /** For the audit log: read at scrape time. */
    setAuditChainLength(read: () => Promise<number>) {
      auditChainLength = read;
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
