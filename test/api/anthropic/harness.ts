import Anthropic from "@anthropic-ai/sdk";
import { createAnthropicRoutes } from "../../../src/api/anthropic/routes";
import { createOpenAiRoutes } from "../../../src/api/openai/routes";
import type { FakeEngineOptions } from "../../../src/inference/fake-engine";
import { createFakeEngine } from "../../../src/inference/fake-engine";
import { fixedCallerGate } from "../../support/fixed-caller-gate";
import { createTestApp } from "../../support/test-app";
import { recordingEngine } from "../openai/harness";

/** The real app shell with the Anthropic (and OpenAI) routes over a recording fake engine. */
export function anthropicApp(fake: FakeEngineOptions = {}) {
  const recorded = recordingEngine(createFakeEngine(fake));
  const gate = fixedCallerGate();
  const { app } = createTestApp({
    engine: recorded.engine,
    routes: [createOpenAiRoutes({ engine: recorded.engine, gate }), createAnthropicRoutes({ engine: recorded.engine, gate })],
  });
  return { app, ...recorded };
}

/** The official SDK, unchanged, talking to an in-process app through its `fetch` option. */
export function sdkClient(app: { handle: (request: Request) => Promise<Response> }, apiKey = "unused") {
  return new Anthropic({ apiKey, baseURL: "http://localhost", maxRetries: 0, fetch: (url, init) => app.handle(new Request(url as string, init as RequestInit)) });
}

/** An Anthropic SSE body as its `event:` names and parsed `data:` payloads. */
export function sseEvents(text: string): { event: string; data: any }[] {
  return text
    .trim()
    .split("\n\n")
    .map((block) => {
      const [eventLine, dataLine, ...rest] = block.split("\n");
      if (!eventLine?.startsWith("event: ") || !dataLine?.startsWith("data: ") || rest.length > 0) throw new Error("malformed SSE event");
      return { event: eventLine.slice("event: ".length), data: JSON.parse(dataLine.slice("data: ".length)) };
    });
}
