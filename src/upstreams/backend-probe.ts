import { z } from "zod";
import type { Config } from "../config/schema";

type BackendKind = Config["upstreams"][number]["kind"];

/** Work a backend reports for one model: requests running and requests waiting for a slot. */
export interface BackendLoad {
  running: number;
  waiting: number;
}

export interface ProbeResult {
  ready: boolean;
  /** Per model id; "*" for a backend that serves one model and does not name it (llama-server, vLLM). null: the backend told nothing. */
  load: Map<string, BackendLoad> | null;
}

const EnclaveStatus = z.object({ models: z.array(z.object({ id: z.string(), busy_sequences: z.number(), queue_depth: z.number() })) });
const LlamaSlots = z.array(z.object({ is_processing: z.boolean() }));

/**
 * One probe of a backend: is it ready to serve, and how busy is it. `base` is the upstream's API
 * URL (…/v1); health and load endpoints live beside it. A load endpoint that fails or answers
 * something unexpected leaves the load unknown without calling the backend unhealthy: only
 * readiness counts toward the circuit breaker.
 */
export async function probeBackend(kind: BackendKind, base: string, get: (url: string) => Promise<Response>): Promise<ProbeResult> {
  const origin = base.replace(/\/v1$/, "");
  const ready = await get(kind === "openai" ? `${base}/models` : `${origin}/health`).then(
    async (response) => {
      await response.body?.cancel().catch(() => {});
      return response.ok;
    },
    () => false,
  );
  if (!ready || kind === "openai") return { ready, load: null };
  const load = await get(kind === "enclave" ? `${origin}/admin/status` : kind === "llama-server" ? `${origin}/slots` : `${origin}/metrics`).then(
    async (response) => (response.ok ? parseLoad(kind, kind === "vllm" ? await response.text() : await response.json()) : null),
    () => null,
  );
  return { ready, load };
}

function parseLoad(kind: BackendKind, body: unknown): Map<string, BackendLoad> | null {
  if (kind === "enclave") {
    const status = EnclaveStatus.safeParse(body);
    return status.success ? new Map(status.data.models.map((model) => [model.id, { running: model.busy_sequences, waiting: model.queue_depth }])) : null;
  }
  if (kind === "llama-server") {
    const slots = LlamaSlots.safeParse(body);
    // /slots shows no queue; a request beyond the slots waits inside llama-server unseen here.
    return slots.success ? new Map([["*", { running: slots.data.filter((slot) => slot.is_processing).length, waiting: 0 }]]) : null;
  }
  const text = String(body);
  const running = prometheusSum(text, "vllm:num_requests_running");
  const waiting = prometheusSum(text, "vllm:num_requests_waiting");
  return running == null && waiting == null ? null : new Map([["*", { running: running ?? 0, waiting: waiting ?? 0 }]]);
}

/** The sum of a gauge's samples over all its label sets in Prometheus text format; null when absent. */
function prometheusSum(text: string, name: string): number | null {
  let total: number | null = null;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name) || (line[name.length] !== "{" && line[name.length] !== " ")) continue;
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    if (Number.isFinite(value)) total = (total ?? 0) + value;
  }
  return total;
}
