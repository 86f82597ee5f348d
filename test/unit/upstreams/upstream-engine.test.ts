import { describe, expect, test } from "bun:test";
import { EngineError } from "../../../src/errors";
import type { GenerationEvent, GenerationRequest } from "../../../src/inference/types";
import { createCircuitBreaker } from "../../../src/upstreams/circuit-breaker";
import { createUpstreamEngine, type UpstreamConfig } from "../../../src/upstreams/upstream-engine";
import { UpstreamRejectedError, UpstreamUnavailableError } from "../../../src/upstreams/upstream-errors";
import { memoryLogger } from "../../support/test-app";
import { generationRequest } from "../../support/generation-request";

const upstream: UpstreamConfig = { id: "vllm-a", url: "http://vllm.test/v1/", region: "eu-1", models: ["big"], weight: 1, kind: "openai", probe_seconds: 2 };

function generation(overrides: Parameters<typeof generationRequest>[0] = {}): GenerationRequest {
  return generationRequest({
    requestId: "r1",
    model: "big",
    input: { kind: "chat", messages: [{ role: "user", content: "secret prompt" }], tools: [], toolChoice: "none" },
    sampling: { maxTokens: null, temperature: 1 },
    ...overrides,
  });
}

const sse = (...data: unknown[]) =>
  new Response(data.map((d) => `data: ${typeof d === "string" ? d : JSON.stringify(d)}\n\n`).join(""), { headers: { "content-type": "text/event-stream" } });
const chunk = (delta: object, finish: string | null = null) => ({ choices: [{ index: 0, delta, finish_reason: finish }] });

/** An upstream engine over a scripted fetch; `calls` records every connection attempt. */
function engineWith(answer: (url: string, init: RequestInit) => Response | Promise<Response>, extra: { now?: () => number } = {}) {
  const calls: { url: string; init: RequestInit }[] = [];
  const { logger, lines } = memoryLogger();
  const now = extra.now ?? (() => 0);
  const engine = createUpstreamEngine({
    upstream,
    apiKey: "sk-upstream-secret",
    now,
    logger,
    breaker: createCircuitBreaker({ failureThreshold: 2, cooldownMs: 5_000, now }),
    fetch: async (url, init) => {
      calls.push({ url, init });
      return answer(url, init);
    },
  });
  return { engine, calls, lines };
}

async function drain(events: AsyncIterable<GenerationEvent>): Promise<GenerationEvent[]> {
  const out: GenerationEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

describe("createUpstreamEngine", () => {
  test("Should post the chat to the upstream's /chat/completions with its key - and yield its chunks as events", async () => {
    const { engine, calls } = engineWith(() => sse(chunk({ content: "A" }), chunk({ content: "B" }), chunk({}, "stop"), { choices: [], usage: { prompt_tokens: 3, completion_tokens: 2 } }, "[DONE]"));
    const events = await drain(await engine.generate(generation()));
    expect(events).toEqual([
      { type: "text", text: "A" },
      { type: "text", text: "B" },
      { type: "done", finishReason: "stop", toolCalls: [], usage: { promptTokens: 3, completionTokens: 2 } },
    ]);
    expect(calls[0]?.url).toBe("http://vllm.test/v1/chat/completions");
    expect(new Headers(calls[0]?.init.headers).get("authorization")).toBe("Bearer sk-upstream-secret");
    expect(JSON.parse(String(calls[0]?.init.body)).stream).toBe(true);
  });

  test("Should embed through /embeddings in input order", async () => {
    const { engine, calls } = engineWith(() => Response.json({ data: [{ index: 1, embedding: [2] }, { index: 0, embedding: [1] }], usage: { prompt_tokens: 4 } }));
    const result = await engine.embed({ requestId: "r", model: "big", inputs: ["a", "b"], signal: new AbortController().signal, waitForModel: true });
    expect(result).toEqual({ vectors: [[1], [2]], promptTokens: 4 });
    expect(calls[0]?.url).toBe("http://vllm.test/v1/embeddings");
  });

  test.each([
    [400, UpstreamRejectedError, 400, "upstream_rejected", false],
    [422, UpstreamRejectedError, 400, "upstream_rejected", false],
    [429, UpstreamUnavailableError, 503, "upstream_overloaded", false],
    [503, UpstreamUnavailableError, 503, "upstream_overloaded", false],
    [500, UpstreamUnavailableError, 502, "upstream_error", true],
    [502, UpstreamUnavailableError, 502, "upstream_error", true],
    [401, UpstreamUnavailableError, 502, "upstream_error", false],
    [404, UpstreamUnavailableError, 502, "upstream_error", false],
  ] as const)("Should answer an upstream %i as %p %i %s - counted as a failure: %p", async (upstreamStatus, kind, status, code, counted) => {
    const { engine } = engineWith(() => Response.json({ error: { message: "you said: secret prompt", code: "bad_thing", param: "messages" } }, { status: upstreamStatus }));
    const error = await engine.generate(generation()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(kind);
    expect(error).toMatchObject({ status, code });
    // The upstream's message can quote the prompt: never passed on.
    expect((error as Error).message).not.toContain("secret prompt");
    await engine.generate(generation()).catch(() => {});
    expect(engine.breaker.state).toBe(counted ? "open" : "closed");
  });

  test("Should pass on the upstream's Retry-After when it is at capacity", async () => {
    const { engine } = engineWith(() => new Response("busy", { status: 429, headers: { "retry-after": "9" } }));
    expect(await engine.generate(generation()).catch((e: unknown) => e)).toMatchObject({ status: 503, retryAfterSeconds: 9 });
  });

  test("Should answer 503 when the upstream cannot be reached - and stop connecting once the breaker opens", async () => {
    let now = 0;
    const { engine, calls, lines } = engineWith(
      () => {
        throw new TypeError("Unable to connect. Is the computer able to access the url?");
      },
      { now: () => now },
    );
    for (let i = 0; i < 2; i++) expect(await engine.generate(generation()).catch((e: unknown) => e)).toMatchObject({ status: 503, code: "upstream_unavailable" });
    expect(engine.breaker.state).toBe("open");
    expect(engine.models()[0]?.state).toBe("failed");
    const refused = await engine.generate(generation()).catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 503, code: "upstream_unavailable", retryAfterSeconds: 5 });
    expect(calls).toHaveLength(2);
    now += 5_000;
    expect(engine.breaker.state).toBe("half-open");
    await engine.generate(generation()).catch(() => {});
    expect(calls).toHaveLength(3);
    expect(lines.join("\n")).not.toContain("sk-upstream-secret");
  });

  test("Should hand the request's signal to fetch - an abort before the answer rejects with its reason and is no failure", async () => {
    const client = new AbortController();
    const { engine } = engineWith(
      (_url, init) =>
        new Promise<Response>((_resolve, reject) => init.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")))),
    );
    const pending = engine.generate(generation({ signal: client.signal }));
    client.abort(new Error("client went away"));
    expect(await pending.catch((e: unknown) => (e as Error).message)).toBe("client went away");
    expect(engine.breaker.state).toBe("closed");
  });

  test("Should close the upstream connection when the consumer stops early", async () => {
    let signal: AbortSignal | undefined;
    const { engine } = engineWith((_url, init) => {
      signal = init.signal ?? undefined;
      return sse(chunk({ content: "A" }), chunk({ content: "B" }), chunk({}, "stop"));
    });
    const events = await engine.generate(generation());
    for await (const _ of events) break;
    expect(signal?.aborted).toBe(true);
    expect(engine.models()[0]?.busySequences).toBe(0);
  });

  test.each([
    ["a stream that ends without a finish reason", () => sse(chunk({ content: "A" }))],
    ["an error event mid-stream", () => sse(chunk({ content: "A" }), { error: { message: "oom", type: "api_error" } })],
    ["a malformed chunk", () => sse(chunk({ content: "A" }), "{nope")],
  ])("Should fail with 502 on %s - after the text that came", async (_name, answer) => {
    const { engine } = engineWith(answer);
    const seen: GenerationEvent[] = [];
    const error = await (async () => {
      for await (const event of await engine.generate(generation())) seen.push(event);
    })().catch((e: unknown) => e);
    expect(seen).toEqual([{ type: "text", text: "A" }]);
    expect(error).toMatchObject({ status: 502, code: "upstream_error" });
  });

  test("Should refuse use after disposal", async () => {
    const { engine, calls } = engineWith(() => sse());
    await engine[Symbol.asyncDispose]();
    await expect(engine.generate(generation())).rejects.toBeInstanceOf(EngineError);
    expect(calls).toHaveLength(0);
  });
});
