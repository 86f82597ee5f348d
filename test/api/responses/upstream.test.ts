import { afterAll, describe, expect, test } from "bun:test";
import { createResponsesRoutes } from "../../../src/api/responses/routes";
import { createFakeEngine } from "../../../src/inference/fake-engine";
import { createCircuitBreaker } from "../../../src/upstreams/circuit-breaker";
import { createRoutingEngine } from "../../../src/upstreams/routing-engine";
import { createUpstreamEngine } from "../../../src/upstreams/upstream-engine";
import { fixedCallerGate } from "../../support/fixed-caller-gate";
import { createTestApp, memoryLogger, request } from "../../support/test-app";
import { startFakeUpstream } from "../upstreams/fake-upstream";
import { sseEvents } from "./harness";

describe("/v1/responses through the residency router", () => {
  const upstream = startFakeUpstream();
  const { logger } = memoryLogger();
  const engine = createRoutingEngine({
    local: createFakeEngine({ models: [{ id: "fake" }] }),
    upstreams: [
      createUpstreamEngine({
        upstream: { id: "vllm-eu", url: upstream.url, region: "eu-1", models: ["big"], weight: 1, kind: "openai", probe_seconds: 2 },
        apiKey: "sk-upstream",
        logger,
        breaker: createCircuitBreaker({ failureThreshold: 2, cooldownMs: 30_000 }),
      }),
    ],
    allowedRegions: ["eu-1"],
    localRegion: "eu-1",
    logger,
  });
  const { app } = createTestApp({ engine, logger, routes: [createResponsesRoutes({ engine, gate: fixedCallerGate() })] });
  afterAll(async () => {
    upstream.stop();
    await engine[Symbol.asyncDispose]();
  });

  test("Should serve a Responses request from an upstream that speaks only chat completions - translated both ways", async () => {
    const plain = await (await app.handle(request("/v1/responses", { method: "POST", json: { model: "big", instructions: "sys", input: "hello" } }))).json();
    expect(plain.status).toBe("completed");
    expect(plain.output[0].content[0].text).toBe("Hello from upstream!");
    expect(upstream.received.at(-1)).toMatchObject({ path: "/v1/chat/completions", body: { model: "big", messages: [{ role: "system", content: "sys" }, { role: "user", content: "hello" }] } });

    const streamed = sseEvents(await (await app.handle(request("/v1/responses", { method: "POST", json: { model: "big", input: "hello", stream: true } }))).text());
    expect(streamed.filter((e) => e.type === "response.output_text.delta").map((e) => e.delta)).toEqual(["Hello", " from", " upstream", "!"]);
    expect(streamed.at(-1)!.type).toBe("response.completed");
  });
});
