import { expect } from "bun:test";
import { fixedCallerGate } from "../../support/fixed-caller-gate";
import { createOpenAiRoutes } from "../../../src/api/openai/routes";
import { createChoicesEngine } from "../../../src/inference/choices-engine";
import { decorateEngine } from "../../../src/inference/decorate-engine";
import type { Engine } from "../../../src/inference/engine";
import { createFakeEngine, type FakeEngineOptions } from "../../../src/inference/fake-engine";
import type { EmbeddingRequest, GenerationRequest } from "../../../src/inference/types";
import { createTestApp, request } from "../../support/test-app";

/** An engine that records what the API handed it, in front of the deterministic fake. */
export function recordingEngine(inner: Engine) {
  const generations: GenerationRequest[] = [];
  const embeddings: EmbeddingRequest[] = [];
  const engine = decorateEngine(inner, {
    generate: (r) => (generations.push(r), inner.generate(r)),
    embed: (r) => (embeddings.push(r), inner.embed(r)),
  });
  return { engine, generations, embeddings };
}

/** The real app shell with the OpenAI routes over a recording fake engine. */
export function openAiApp(fake: FakeEngineOptions = {}) {
  const recorded = recordingEngine(createFakeEngine(fake));
  // As composed for serving: `n` fans out above the engine, so the recording sees each choice's request.
  const engine = createChoicesEngine(recorded.engine);
  const { app } = createTestApp({ engine, routes: [createOpenAiRoutes({ engine, gate: fixedCallerGate(), now: () => 1_750_000_000_000 })] });
  return { app, ...recorded };
}

export const post = (path: string, json: unknown, headers: Record<string, string> = {}) =>
  request(path, { method: "POST", json, headers });

export const chat = (body: Record<string, unknown> = {}) => ({
  model: "fake",
  messages: [{ role: "user", content: "count 1 2 3" }],
  ...body,
});

/** The `data:` payloads of an SSE body, `[DONE]` kept as the string. */
export function sseData(text: string): unknown[] {
  expect(text.endsWith("\n\n")).toBe(true);
  return text
    .slice(0, -2)
    .split("\n\n")
    .map((event) => {
      expect(event.startsWith("data: ")).toBe(true);
      const data = event.slice("data: ".length);
      return data === "[DONE]" ? data : JSON.parse(data);
    });
}

/** A response body as JSON, typed loosely for assertions. */
export const json = (response: Response): Promise<any> => response.json();
