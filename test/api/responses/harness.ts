import { expect } from "bun:test";
import { createOpenAiRoutes } from "../../../src/api/openai/routes";
import { createResponsesRoutes } from "../../../src/api/responses/routes";
import { createFakeEngine, type FakeEngineOptions } from "../../../src/inference/fake-engine";
import { fixedCallerGate } from "../../support/fixed-caller-gate";
import { createTestApp } from "../../support/test-app";
import { recordingEngine } from "../openai/harness";

/** The real app shell with the Responses and chat routes over one recording fake engine and a fixed caller. */
export function responsesApp(fake: FakeEngineOptions = {}) {
  const recorded = recordingEngine(createFakeEngine(fake));
  const gate = fixedCallerGate();
  const now = () => 1_750_000_000_000;
  const routes = [createResponsesRoutes({ engine: recorded.engine, gate, now }), createOpenAiRoutes({ engine: recorded.engine, gate, now })];
  const { app } = createTestApp({ engine: recorded.engine, routes });
  return { app, ...recorded };
}

export const respond = (body: Record<string, unknown> = {}) => ({ model: "fake", input: "count 1 2 3", ...body });

/** A Responses SSE body as its events: each `event:` line must match its payload's `type`. */
export function sseEvents(text: string): ({ type: string; sequence_number: number } & Record<string, any>)[] {
  expect(text.endsWith("\n\n")).toBe(true);
  return text
    .split("\n\n")
    .filter((block) => block !== "")
    .map((block) => {
      const [eventLine, dataLine, ...rest] = block.split("\n");
      expect(rest).toEqual([]);
      expect(eventLine!.startsWith("event: ")).toBe(true);
      expect(dataLine!.startsWith("data: ")).toBe(true);
      const payload = JSON.parse(dataLine!.slice("data: ".length));
      expect(payload.type).toBe(eventLine!.slice("event: ".length));
      return payload;
    });
}
