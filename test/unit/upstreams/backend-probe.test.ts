import { describe, expect, test } from "bun:test";
import { probeBackend } from "../../../src/upstreams/backend-probe";

/** A GET that answers from a table of URL -> response, 404 for the rest; records what was asked. */
function scripted(routes: Record<string, () => Response>) {
  const asked: string[] = [];
  const get = async (url: string) => {
    asked.push(url);
    const route = routes[url];
    if (route == null) return new Response("not found", { status: 404 });
    return route();
  };
  return { get, asked };
}

describe("probeBackend", () => {
  test("Should read an Enclave node's busy sequences and queue per model from /admin/status", async () => {
    const { get, asked } = scripted({
      "http://n2:8080/health": () => Response.json({ status: "ok" }),
      "http://n2:8080/admin/status": () => Response.json({ models: [{ id: "big", busy_sequences: 3, queue_depth: 2, parallel: 4 }] }),
    });
    const result = await probeBackend("enclave", "http://n2:8080/v1", get);
    expect(result).toEqual({ ready: true, load: new Map([["big", { running: 3, waiting: 2 }]]) });
    expect(asked).toEqual(["http://n2:8080/health", "http://n2:8080/admin/status"]);
  });

  test("Should count llama-server's processing slots from /slots", async () => {
    const { get } = scripted({
      "http://ls/health": () => Response.json({ status: "ok" }),
      "http://ls/slots": () => Response.json([{ id: 0, is_processing: true }, { id: 1, is_processing: false }, { id: 2, is_processing: true }]),
    });
    expect(await probeBackend("llama-server", "http://ls/v1", get)).toEqual({ ready: true, load: new Map([["*", { running: 2, waiting: 0 }]]) });
  });

  test("Should sum vLLM's running and waiting gauges over their labels from /metrics", async () => {
    const metrics = [
      "# HELP vllm:num_requests_waiting Number of requests waiting.",
      'vllm:num_requests_waiting{model_name="big"} 5.0',
      'vllm:num_requests_running{model_name="big"} 7.0',
      'vllm:num_requests_running_total{model_name="big"} 99.0',
    ].join("\n");
    const { get } = scripted({ "http://v/health": () => new Response(""), "http://v/metrics": () => new Response(metrics) });
    expect(await probeBackend("vllm", "http://v/v1", get)).toEqual({ ready: true, load: new Map([["*", { running: 7, waiting: 5 }]]) });
  });

  test("Should call a backend that fails its readiness endpoint not ready - and not ask it for load", async () => {
    const { get, asked } = scripted({ "http://n2/health": () => new Response("loading", { status: 503 }) });
    expect(await probeBackend("enclave", "http://n2/v1", get)).toEqual({ ready: false, load: null });
    expect(asked).toEqual(["http://n2/health"]);
    const unreachable = async () => Promise.reject(new TypeError("connection refused"));
    expect(await probeBackend("vllm", "http://v/v1", unreachable)).toEqual({ ready: false, load: null });
  });

  test("Should leave the load unknown but the backend ready when only the load endpoint fails - a key without the manager role gets 403 from /admin/status", async () => {
    const { get } = scripted({ "http://n2/health": () => new Response("ok"), "http://n2/admin/status": () => new Response("forbidden", { status: 403 }) });
    expect(await probeBackend("enclave", "http://n2/v1", get)).toEqual({ ready: true, load: null });
  });

  test("Should probe a plain OpenAI-compatible backend by GET /models only", async () => {
    const { get, asked } = scripted({ "http://o/v1/models": () => Response.json({ data: [] }) });
    expect(await probeBackend("openai", "http://o/v1", get)).toEqual({ ready: true, load: null });
    expect(asked).toEqual(["http://o/v1/models"]);
  });
});
