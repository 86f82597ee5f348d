import { describe, expect, test } from "bun:test";
import pino from "pino";
import { decorateEngine } from "../../../src/inference/decorate-engine";
import { createFakeEngine } from "../../../src/inference/fake-engine";
import type { GenerationEvent } from "../../../src/inference/types";
import { createMeteredEngine } from "../../../src/metering/metered-engine";
import { createPayloadCaptureEngine } from "../../../src/privacy/payload-capture-engine";
import { testCaller } from "../../support/fixed-caller-gate";
import { generationRequest } from "../../support/generation-request";

const embedding = (overrides: Record<string, unknown> = {}) => ({ requestId: "req-e", model: "fake", inputs: ["a"], signal: new AbortController().signal, waitForModel: true, ...overrides });

describe("the guarded engine decorators need a caller", () => {
  test("Should refuse a generation or embedding without a caller - the guard fails closed instead of passing it through", async () => {
    const engine = createMeteredEngine(createFakeEngine());
    await expect(engine.generate(generationRequest())).rejects.toMatchObject({ status: 500, code: "internal_error" });
    await expect(engine.embed(embedding())).rejects.toMatchObject({ status: 500, code: "internal_error" });
  });

  test("Should refuse payload retention's decision without a caller - consent is per account", async () => {
    const engine = createPayloadCaptureEngine(createFakeEngine(), {
      store: { canCapture: false, capture: () => {} } as never,
      decide: () => ({ mode: "none" }) as never,
      logger: pino({ level: "silent" }),
    });
    await expect(engine.generate(generationRequest())).rejects.toMatchObject({ code: "internal_error" });
  });

  test("Should check the caller's model scope and meter the configured model id - 'unknown' for one the engine does not serve", async () => {
    const engine = createMeteredEngine(createFakeEngine());
    const scoped = testCaller({ models: ["other"] });
    await expect(engine.generate(generationRequest({ caller: scoped }))).rejects.toMatchObject({ status: 403, code: "model_not_allowed" });

    const caller = testCaller();
    await expect(engine.generate(generationRequest({ caller, model: "a-client-string" }))).rejects.toMatchObject({ status: 404 });
    expect(caller.meter.model).toBe("unknown");

    const served = testCaller();
    for await (const _event of await engine.generate(generationRequest({ caller: served }))) {
      // drain
    }
    expect(served.meter).toMatchObject({ model: "fake", errorCode: null });
    expect(served.meter.completionTokens).toBeGreaterThan(0);
  });
});

describe("metering of the prompt cache", () => {
  test("Should meter the prompt tokens read from the cache - the done event's cachedTokens reaches the caller's meter", async () => {
    const done: GenerationEvent = { type: "done", finishReason: "stop", toolCalls: [], usage: { promptTokens: 40, completionTokens: 2, cachedTokens: 31 } };
    const engine = createMeteredEngine(
      decorateEngine(createFakeEngine(), {
        generate: async () =>
          (async function* () {
            yield done;
          })(),
      }),
    );
    const caller = testCaller();
    for await (const _event of await engine.generate(generationRequest({ caller }))) {
      // drain
    }
    expect(caller.meter).toMatchObject({ promptTokens: 40, cachedTokens: 31, completionTokens: 2 });
  });
});
