import { describe, expect, test } from "bun:test";
import type { Caller } from "../../../src/caller/caller";
import { createRequestMeter } from "../../../src/caller/request-meter";
import type { AccountRow, ApiKeyRow } from "../../../src/db/schema";
import type { Engine } from "../../../src/inference/engine";
import { createFakeEngine } from "../../../src/inference/fake-engine";
import type { ChatMessage, GenerationRequest } from "../../../src/inference/types";
import { createCircuitBreaker } from "../../../src/upstreams/circuit-breaker";
import { createRoutingEngine } from "../../../src/upstreams/routing-engine";
import { createUpstreamEngine } from "../../../src/upstreams/upstream-engine";
import { UpstreamUnavailableError } from "../../../src/upstreams/upstream-errors";
import { generationRequest } from "../../support/generation-request";

type Stream = "ok" | "fails-before-first-token" | "fails-after-first-token";

/** A llama-server stand-in: /slots reports `processing` busy slots; completions stream its id, or break as told. */
function llamaServer(id: string, options: { processing?: number; stream?: Stream } = {}) {
  const state = { processing: options.processing ?? 0, stream: options.stream ?? "ok" };
  const generations: string[] = [];
  const sse = (chunks: object[]) => new Response(chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`).join(""));
  const engine = createUpstreamEngine({
    upstream: { id, url: `http://${id}.test/v1`, region: "eu-1", models: ["big"], weight: 1, kind: "llama-server", probe_seconds: 60 },
    breaker: createCircuitBreaker({ failureThreshold: 5, cooldownMs: 60_000, now: () => 0 }),
    fetch: async (url) => {
      if (url.endsWith("/health")) return Response.json({ status: "ok" });
      if (url.endsWith("/slots")) return Response.json(Array.from({ length: 4 }, (_, slot) => ({ id: slot, is_processing: slot < state.processing })));
      generations.push(url);
      if (state.stream === "fails-before-first-token") return sse([{ error: { message: "slot crashed" } }]);
      const token = { choices: [{ index: 0, delta: { content: id } }] };
      if (state.stream === "fails-after-first-token") return sse([token, { error: { message: "slot crashed" } }]);
      return sse([token, { choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }]);
    },
  });
  return { engine, state, generations };
}

const caller = (account: string): Caller => ({ key: { id: `key_${account}`, accountId: account } as ApiKeyRow, account: { id: account } as AccountRow, regions: null, meter: createRequestMeter(0) });

function chat(messages: ChatMessage[], who?: Caller): GenerationRequest {
  return generationRequest({ requestId: crypto.randomUUID(), model: "big", input: { kind: "chat", messages, tools: [], toolChoice: "none" }, sampling: { maxTokens: 3 }, caller: who });
}

async function text(engine: Engine, request: GenerationRequest): Promise<string> {
  let out = "";
  for await (const event of await engine.generate(request)) if (event.type === "text") out += event.text;
  return out;
}

function router(...servers: ReturnType<typeof llamaServer>[]) {
  return createRoutingEngine({
    local: createFakeEngine({ models: [{ id: "local-model" }] }),
    upstreams: servers.map((server) => server.engine),
    allowedRegions: null,
    localRegion: "",
    // Weighted order would put the first backend first every time.
    random: () => 0,
  });
}

const turn1: ChatMessage[] = [
  { role: "system", content: "You are a coding agent." },
  { role: "user", content: "fix the bug" },
];
const turn2: ChatMessage[] = [...turn1, { role: "assistant", content: "done" }, { role: "user", content: "now add a test" }];

describe("load- and cache-aware routing over upstreams", () => {
  test("Should send a request to the least loaded backend as its probe reports it - not the first by weight", async () => {
    const busy = llamaServer("busy", { processing: 3 });
    const idle = llamaServer("idle", { processing: 0 });
    await Promise.all([busy.engine.probe(), idle.engine.probe()]);
    expect(busy.engine.load("big")).toBe(3);
    expect(await text(router(busy, idle), chat(turn1))).toBe("idle");
    idle.state.processing = 4;
    await idle.engine.probe();
    expect(await text(router(busy, idle), chat(turn1))).toBe("busy");
  });

  test("Should send an account's next turn to the backend holding its conversation - within one request of the least loaded", async () => {
    const a = llamaServer("a", { processing: 0 });
    const b = llamaServer("b", { processing: 1 });
    await Promise.all([a.engine.probe(), b.engine.probe()]);
    const engine = router(a, b);
    const alice = caller("acct_alice");
    // Turn 1 on b (a looked busier then); turn 2 follows it there though a is now one request freer.
    a.state.processing = 2;
    await a.engine.probe();
    expect(await text(engine, chat(turn1, alice))).toBe("b");
    a.state.processing = 0;
    await a.engine.probe();
    expect(await text(engine, chat(turn2, alice))).toBe("b");
    // Another account with the same opening has no affinity: it takes the least loaded.
    expect(await text(engine, chat(turn2, caller("acct_bob")))).toBe("a");
    // Much busier than the rest, the cache is not worth the wait.
    b.state.processing = 4;
    await b.engine.probe();
    expect(await text(engine, chat(turn2, alice))).toBe("a");
  });

  test("Should retry on another backend when one fails before its first token - the client sees one clean stream", async () => {
    const broken = llamaServer("broken", { stream: "fails-before-first-token" });
    const good = llamaServer("good", { processing: 1 });
    await Promise.all([broken.engine.probe(), good.engine.probe()]);
    expect(await text(router(broken, good), chat(turn1))).toBe("good");
    expect(broken.generations).toHaveLength(1);
    expect(good.generations).toHaveLength(1);
  });

  test("Should never retry once a token has left - the stream fails and no other backend is called", async () => {
    const breaking = llamaServer("breaking", { stream: "fails-after-first-token" });
    const good = llamaServer("good", { processing: 1 });
    await Promise.all([breaking.engine.probe(), good.engine.probe()]);
    const received: string[] = [];
    const failure = await (async () => {
      for await (const event of await router(breaking, good).generate(chat(turn1))) if (event.type === "text") received.push(event.text);
    })().catch((error: unknown) => error);
    expect(received).toEqual(["breaking"]);
    expect(failure).toBeInstanceOf(UpstreamUnavailableError);
    expect(good.generations).toHaveLength(0);
  });

  test("Should open a backend's circuit from failed readiness probes alone - no request is sent to it", async () => {
    const down = createUpstreamEngine({
      upstream: { id: "down", url: "http://down.test/v1", region: "eu-1", models: ["big"], weight: 1, kind: "vllm", probe_seconds: 60 },
      breaker: createCircuitBreaker({ failureThreshold: 2, cooldownMs: 60_000, now: () => 0 }),
      fetch: async () => Promise.reject(new TypeError("connection refused")),
    });
    await down.probe();
    await down.probe();
    expect(down.breaker.state).toBe("open");
  });
});
