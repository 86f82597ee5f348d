import { z } from "zod";
import { isLoopback } from "../net/is-loopback";
import { PAYLOAD_MODES } from "./payload-modes";

/**
 * The only config contract. Every leaf has a type, a default and a description; `config print`
 * and the `ENCLAVE_<SECTION>_<KEY>` environment overrides are derived from this schema, so a new
 * setting needs no other registration. Objects are strict: a misspelt key is an error, not a
 * silently ignored line.
 */

/** A credential: `config print` and the residency report's config hash show only whether it is set. */
function secret(description: string) {
  return z.string().default("").meta({ description, secret: true });
}

const tlsSchema = z
  .strictObject({
    cert: z.string().min(1).describe("PEM certificate chain file; with key, serve HTTPS"),
    key: z.string().min(1).describe("PEM private key file for cert"),
  })
  .describe("TLS in transit; both cert and key, or neither");

const serverSchema = z.strictObject({
  host: z.string().min(1).default("127.0.0.1").describe("address to listen on; 0.0.0.0 for every interface"),
  port: z.number().int().min(0).max(65535).default(8080).describe("TCP port (0 picks a free one)"),
  body_limit_bytes: z
    .number()
    .int()
    .positive()
    .default(4 * 1024 * 1024)
    .describe("largest request body accepted; larger bodies get 413"),
  cors_origins: z
    .array(z.string())
    .default([])
    .describe("origins allowed to call the API from a browser; empty means no CORS headers"),
  write_timeout_seconds: z
    .number()
    .positive()
    .default(30)
    .describe("a stream whose client has not taken the next chunk for this long (its socket is full) is aborted and its sequence freed"),
  shutdown_grace_seconds: z
    .number()
    .min(0)
    .default(10)
    .describe("on SIGTERM/SIGINT, how long in-flight requests may finish before they are cut"),
  tls: tlsSchema.optional(),
});

const storageSchema = z.strictObject({
  data_dir: z.string().min(1).default("./data").describe("directory for the SQLite store and forged demo models; relative to the config file's directory"),
  database_url: secret(
    "postgres://USER:PASSWORD@HOST:PORT/DB of the store a fleet of nodes shares (`enclave store migrate` creates its tables, `enclave store copy` moves a SQLite store into it); when set, this node serves from it instead of the data dir's SQLite file (keys, accounts, limits, usage and the audit log shared with every node on it); set it with ENCLAVE_STORAGE_DATABASE_URL rather than in the file",
  ),
  database_region: z
    .string()
    .default("")
    .describe("region the database_url server runs in; required when [residency] names regions and the server is not on this machine (loopback or a unix socket)"),
});

const engineSchema = z.strictObject({
  gpu: z
    .enum(["auto", "cuda", "vulkan", "cpu"])
    .default("auto")
    .describe("llama.cpp backend; auto uses a GPU build when one is embedded and a device is found"),
  max_threads: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe("CPU threads llama.cpp may use in all; 0 means the number of cores"),
  model_paths: z
    .array(z.string().min(1))
    .default(["models"])
    .describe("directories POST /admin/models and `enclave models add` may add GGUF files from, relative to the config file's directory; empty turns adding models at run time off"),
});

const draftSchema = z.strictObject({
  path: z.string().min(1).describe("GGUF file of the draft model (same tokenizer family as the target)"),
  min_tokens: z
    .number()
    .int()
    .min(1)
    .default(1)
    .describe("fewest tokens the draft proposes before the target validates (at least 1 so the target never runs ahead); the length doubles while the target validates every proposal, up to max_tokens, and falls back here after a refuted one"),
  max_tokens: z.number().int().min(1).default(16).describe("most tokens drafted per step"),
  min_confidence: z.number().min(0).max(1).default(0.6).describe("stop drafting a step when the draft's confidence falls below this"),
  threads: z.number().int().min(0).default(0).describe("CPU threads for the draft context; 0 shares the target's"),
  adaptive: z
    .boolean()
    .default(true)
    .describe("turn drafting off while it costs time (low acceptance or all sequences busy), back on when it pays"),
});

export const modelSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9._:-]+$/, "letters, digits, '.', '_', ':' or '-'").describe("name clients pass as `model`"),
  path: z.string().min(1).describe("local GGUF file"),
  default: z.boolean().default(false).describe("loaded at start-up and used by /ready; the first model if none is marked"),
  context_size: z.number().int().min(64).default(4096).describe("tokens of context per sequence"),
  parallel: z.number().int().min(1).default(2).describe("sequences (llama.cpp slots) decoded together"),
  kv_unified: z
    .boolean()
    .default(false)
    .describe(
      "one KV cache for all sequences, so any set of busy ones decodes in one pass whichever slots they hold, but every token's attention spans every sequence's cached tokens; false (llama-server's default) gives each sequence its own, and llama.cpp then batches only consecutive slots, so a request without a cached prefix takes the free slot next to busy ones",
    ),
  flash_attention: z
    .enum(["auto", "on", "off"])
    .default("auto")
    .describe("llama.cpp's flash attention kernel: auto lets llama.cpp use it where the device supports it; on or off forces it"),
  mmap: z
    .enum(["auto", "on", "off"])
    .default("auto")
    .describe(
      "how llama.cpp holds the GGUF file's CPU-side weights: on maps the file (its pages stay in the OS page cache, shared and reclaimable); off reads them into the process's own memory at load; auto reads them where the model computes on the CPU alone and fits in the memory Enclave may still take (a cgroup limit included), else maps the file unless reading it lets more layers fit on the GPU",
    ),
  queue_size: z.number().int().min(0).default(32).describe("requests that may wait for a free sequence; beyond it 503"),
  threads: z.number().int().min(0).default(0).describe("CPU threads for this model's context; 0 means engine.max_threads"),
  gpu_layers: z
    .union([z.literal("auto"), z.literal("max"), z.number().int().min(0)])
    .default("auto")
    .describe("layers offloaded to the GPU"),
  keep_alive_seconds: z
    .number()
    .min(0)
    .default(300)
    .describe("a non-default model is unloaded after this many idle seconds; 0 keeps it"),
  speculative: z
    .enum(["auto", "draft", "lookup", "none"])
    .default("auto")
    .describe("speculative decoding: draft model, prompt lookup, or none; auto = draft when one is configured"),
  draft: draftSchema.optional(),
  prompt_cache: z
    .enum(["account", "key", "off"])
    .default("account")
    .describe(
      "reuse a sequence's KV cache for a later prompt sharing its prefix, only within this scope: the caller's account, its API key, or off (every prompt evaluated from scratch); another scope's tokens are erased before a sequence is reused",
    ),
  prompt_cache_mb: z
    .number()
    .int()
    .min(0)
    .default(2048)
    .describe(
      "MiB of RAM for cached prefixes evicted from the sequences, restored for a later request of the same scope; in memory only, never on disk; 0 turns it off",
    ),
})
  // Here rather than on the config, so a model added at run time is held to the same rules.
  .superRefine((model, ctx) => {
    if (model.speculative === "draft" && model.draft == null)
      ctx.addIssue({ code: "custom", path: ["draft"], message: "speculative = \"draft\" needs a [models.draft] table" });
    if (model.draft != null && model.draft.min_tokens > model.draft.max_tokens)
      ctx.addIssue({
        code: "custom",
        path: ["draft", "min_tokens"],
        message: `min_tokens (${model.draft.min_tokens}) is larger than max_tokens (${model.draft.max_tokens})`,
      });
  });

const loggingSchema = z.strictObject({
  level: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info").describe("least severe level written"),
  format: z
    .enum(["auto", "json", "pretty"])
    .default("auto")
    .describe("auto: human-readable lines on a terminal, JSON lines otherwise; json: always JSON lines (for a log shipper); pretty: always human-readable"),
});

const metricsSchema = z.strictObject({
  enabled: z.boolean().default(true).describe("serve Prometheus metrics (text format) at path"),
  path: z
    .string()
    .regex(/^\/[A-Za-z0-9._~\/-]*$/, "an absolute URL path such as /metrics")
    .default("/metrics")
    .describe("URL path of the metrics endpoint"),
  token: secret("bearer token a scraper must send (Authorization: Bearer ...); empty serves metrics without auth, allowed only on a loopback server.host; set it with ENCLAVE_METRICS_TOKEN rather than in the file"),
  key_labels: z
    .boolean()
    .default(false)
    .describe("add an API key id label to the per-key queue-wait and request series; one series per key, so keep it off with many keys"),
});

const uiSchema = z.strictObject({
  enabled: z
    .boolean()
    .default(true)
    .describe("serve the admin console and chat playground at /ui (a static page; every action needs an admin or manager API key)"),
});

const authSchema = z.strictObject({
  pepper: secret("server-side secret mixed into every API key hash; set it with ENCLAVE_AUTH_PEPPER rather than in the file; changing it invalidates every key"),
});

const limitsSchema = z.strictObject({
  concurrency: z.number().int().min(1).default(3).describe("requests one key may have in flight at once; a key's own limit overrides it"),
  account_concurrency: z
    .number()
    .int()
    .min(0)
    .default(3)
    .describe("requests one account may have in flight at once, across its keys; an account's own limit overrides it; 0 means no account limit"),
  queue_size: z.number().int().min(0).default(16).describe("requests per key that may wait for a free slot; beyond it 429 with Retry-After"),
  queue_wait_seconds: z.number().min(0).default(30).describe("longest a request waits in its key's queue before it gets 429"),
  rpm: z.number().int().min(0).default(0).describe("requests per minute per key (sliding window); a key's own limit overrides it; 0 means unlimited"),
  tpm: z.number().int().min(0).default(0).describe("prompt + completion tokens per minute per key (sliding window); a key's own limit overrides it; 0 means unlimited"),
  max_request_seconds: z
    .number()
    .positive()
    .default(600)
    .describe(
      "longest one inference request may run, queue wait included; past it the generation is stopped, its sequence freed, and the client gets 504 request_timeout (an open stream gets that error as its last event)",
    ),
});

const modelPriceSchema = z.strictObject({
  model: z.string().min(1).describe("model id as clients pass it"),
  prompt_per_million: z.number().min(0).describe("price of one million prompt tokens"),
  completion_per_million: z.number().min(0).describe("price of one million completion tokens"),
  cached_prompt_per_million: z
    .number()
    .min(0)
    .optional()
    .describe("price of one million prompt tokens read from the prompt cache; absent: they cost prompt_per_million"),
});

const pricingSchema = z
  .strictObject({
    currency: z.string().min(1).default("USD").describe("currency of every price, budget and credit balance"),
    prompt_per_million: z.number().min(0).default(0).describe("price of one million prompt tokens for a model not listed in [[pricing.models]]"),
    completion_per_million: z.number().min(0).default(0).describe("price of one million completion tokens for a model not listed in [[pricing.models]]"),
    cached_prompt_per_million: z
      .number()
      .min(0)
      .optional()
      .describe("price of one million prompt tokens read from the prompt cache for a model not listed in [[pricing.models]]; absent: they cost prompt_per_million"),
    models: z.array(modelPriceSchema).default([]).describe("per-model prices; metered cost = tokens x price / 1,000,000"),
  })
  .superRefine((pricing, ctx) => {
    const seen = new Set<string>();
    pricing.models.forEach((price, index) => {
      if (seen.has(price.model)) ctx.addIssue({ code: "custom", path: ["models", index, "model"], message: `duplicate price for model '${price.model}'` });
      seen.add(price.model);
    });
  });

const retentionSchema = z
  .strictObject({
    payloads: z
      .enum(PAYLOAD_MODES)
      .default("none")
      .describe("none: zero data retention, no prompt or completion is ever stored; anonymized: kept encrypted with only an internal request id; full: kept encrypted with account and key ids"),
    payload_days: z.number().int().min(1).default(30).describe("days a retained payload is kept before the purge deletes it"),
    metadata_detail_days: z
      .number()
      .int()
      .min(1)
      .default(90)
      .describe("days request-level metering rows are kept; older days are rolled up into daily aggregates with no request-level rows"),
    security_days: z.number().int().min(1).default(30).describe("days client IP addresses are kept in metering rows (abuse investigation)"),
    audit_days: z
      .number()
      .int()
      .min(0)
      .default(365)
      .describe("days audit entries are kept; older ones are removed behind a signed checkpoint so the chain still verifies; 0 keeps them forever"),
    purge_interval_minutes: z.number().int().min(1).default(60).describe("how often the server runs the purge (it also runs at start-up and with `enclave purge`)"),
    payload_key: secret("32-byte key (64 hex digits or base64) that encrypts retained payloads (AES-256-GCM) and signs audit checkpoints; set it with ENCLAVE_RETENTION_PAYLOAD_KEY, never in the file; it is never stored in SQLite"),
    payload_key_file: z.string().default("").describe("file holding the payload key instead (64 hex digits or base64); readable only by enclave"),
  })
  .superRefine((retention, ctx) => {
    if (retention.payload_days > retention.metadata_detail_days)
      ctx.addIssue({
        code: "custom",
        path: ["payload_days"],
        message: `payload_days (${retention.payload_days}) is longer than metadata_detail_days (${retention.metadata_detail_days}); an erasure finds anonymized payloads through request-level metadata`,
      });
    if (retention.payload_key !== "" && retention.payload_key_file !== "")
      ctx.addIssue({ code: "custom", path: ["payload_key_file"], message: "set payload_key or payload_key_file, not both" });
    if (retention.payloads !== "none" && retention.payload_key === "" && retention.payload_key_file === "")
      ctx.addIssue({
        code: "custom",
        path: ["payloads"],
        message: `payloads = "${retention.payloads}" keeps payloads encrypted and needs a key: set payload_key_file or ENCLAVE_RETENTION_PAYLOAD_KEY`,
      });
  });

const residencySchema = z.strictObject({
  region: z
    .string()
    .default("")
    .describe("where this installation runs, e.g. de-fra-dc2; must be in allowed_regions when both are set"),
  allowed_regions: z
    .array(z.string().min(1))
    .default([])
    .describe("regions data may be processed in (here and by upstreams); empty allows only this installation's region"),
  allowed_paths: z
    .array(z.string().min(1))
    .default([])
    .describe("directories every file Enclave writes or reads models from must be under; empty does not restrict paths"),
  egress: z
    .enum(["deny", "allow-listed"])
    .default("deny")
    .describe("deny: no outbound connection at all; allow-listed: only to declared upstreams in allowed regions"),
});

const upstreamSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9._:-]+$/, "letters, digits, '.', '_', ':' or '-'").describe("name of this backend in reports and logs"),
  url: z.url({ protocol: /^https?$/ }).describe("base URL of an OpenAI-compatible API, e.g. https://vllm.dc2.internal/v1"),
  region: z.string().min(1).describe("region the backend runs in; must be allowed by [residency]"),
  models: z.array(z.string().min(1)).min(1).describe("model ids this backend serves"),
  api_key_env: z.string().optional().describe("environment variable holding the backend's API key (never logged)"),
  weight: z.number().positive().default(1).describe("share of traffic among backends serving the same model, among equally loaded ones"),
  kind: z
    .enum(["openai", "enclave", "llama-server", "vllm"])
    .default("openai")
    .describe(
      "what the backend is, for its probes: enclave (/health, load from /admin/status with a manager or admin key), llama-server (/health, /slots), vllm (/health, /metrics), openai (GET /models; load is the requests Enclave has in flight there)",
    ),
  probe_seconds: z.number().positive().max(3600).default(2).describe("how often the backend's readiness and load are probed; a failed probe counts toward its circuit breaker"),
});

export const configSchema = z
  .strictObject({
    server: serverSchema.prefault({}),
    storage: storageSchema.prefault({}),
    engine: engineSchema.prefault({}),
    models: z
      .array(modelSchema)
      .default([])
      .describe("GGUF models to serve; empty serves the forged demo pair from data_dir"),
    logging: loggingSchema.prefault({}),
    metrics: metricsSchema.prefault({}),
    ui: uiSchema.prefault({}),
    auth: authSchema.prefault({}),
    limits: limitsSchema.prefault({}),
    pricing: pricingSchema.prefault({}),
    retention: retentionSchema.prefault({}),
    residency: residencySchema.prefault({}),
    upstreams: z
      .array(upstreamSchema)
      .default([])
      .describe("OpenAI-compatible backends (vLLM, llama-server, other Enclave nodes) that serve models beside the local engine"),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.models.forEach((model, index) => {
      if (seen.has(model.id)) ctx.addIssue({ code: "custom", path: ["models", index, "id"], message: `duplicate model id '${model.id}'` });
      seen.add(model.id);
    });
    if (config.models.filter((model) => model.default).length > 1)
      ctx.addIssue({ code: "custom", path: ["models"], message: "more than one model has default = true" });
    // An open /metrics is fine where only this machine can reach it; on a public address it
    // tells anyone the keys' traffic, the models and the load.
    if (config.metrics.enabled && config.metrics.token === "" && !isLoopback(config.server.host))
      ctx.addIssue({
        code: "custom",
        path: ["metrics", "token"],
        message: `metrics.token must be set when server.host (${config.server.host}) is not a loopback address; set ENCLAVE_METRICS_TOKEN, or metrics.enabled = false`,
      });
  });

export type Config = z.infer<typeof configSchema>;
export type ModelConfig = Config["models"][number];
export type DraftConfig = NonNullable<ModelConfig["draft"]>;
