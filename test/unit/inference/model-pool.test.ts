import { describe, expect, test } from "bun:test";
import { configSchema, type ModelConfig } from "../../../src/config/schema";
import type { Engine } from "../../../src/inference/engine";
import { createFakeEngine } from "../../../src/inference/fake-engine";
import { createModelPool } from "../../../src/inference/model-pool";
import type { GenerationEvent } from "../../../src/inference/types";
import { generationRequest } from "../../support/generation-request";
import { memoryLogger } from "../../support/test-app";

function model(id: string, overrides: Partial<ModelConfig> = {}): ModelConfig {
  return { ...configSchema.parse({ models: [{ id, path: `/models/${id}.gguf` }] }).models[0]!, ...overrides };
}

/** A pool over fake engines that records each engine it builds and whether it was disposed. */
function fakePool(models: ModelConfig[], tokenDelayMs = 0) {
  const built: { id: string; engine: Engine; disposed: boolean }[] = [];
  const pool = createModelPool({
    models,
    logger: memoryLogger().logger,
    createEngine: (config) => {
      const engine = createFakeEngine({ models: [{ id: config.id }], tokenDelayMs, naturalLength: 1000 });
      const record = { id: config.id, engine, disposed: false };
      built.push(record);
      return {
        ...engine,
        [Symbol.asyncDispose]: async () => {
          record.disposed = true;
          await engine[Symbol.asyncDispose]();
        },
      };
    },
  });
  return { pool, built };
}

async function drain(stream: AsyncIterable<GenerationEvent>): Promise<GenerationEvent[]> {
  const events: GenerationEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

describe("createModelPool", () => {
  test("Should let a stream in flight finish when its model is unloaded - and serve the next request from a fresh engine", async () => {
    const { pool, built } = fakePool([model("a"), model("b")], 5);
    await pool.start();
    const stream = await pool.generate(generationRequest({ model: "b", sampling: { maxTokens: 20 } }));
    const unloaded = pool.unload("b");
    expect(built.filter((record) => record.id === "b").map((record) => record.disposed)).toEqual([false, false]);
    const events = await drain(stream);
    expect(events.at(-1)).toMatchObject({ type: "done", finishReason: "length" });
    await unloaded;
    expect(built.filter((record) => record.id === "b").map((record) => record.disposed)).toEqual([true, false]);
    expect(pool.models().find((status) => status.id === "b")?.state).toBe("unloaded");
    await pool[Symbol.asyncDispose]();
  });

  test("Should answer 404 for a removed model at once - while its in-flight stream completes", async () => {
    const { pool } = fakePool([model("a"), model("b")], 5);
    const stream = await pool.generate(generationRequest({ model: "b", sampling: { maxTokens: 10 } }));
    const removed = pool.remove("b");
    await expect(pool.generate(generationRequest({ model: "b" }))).rejects.toMatchObject({ code: "model_not_found" });
    expect((await drain(stream)).at(-1)).toMatchObject({ type: "done" });
    await removed;
    expect(pool.models().map((status) => status.id)).toEqual(["a"]);
    await pool[Symbol.asyncDispose]();
  });

  test("Should refuse to add a model whose id exists - 409 conflict", () => {
    const { pool } = fakePool([model("a")]);
    expect(() => pool.add(model("a"))).toThrow(expect.objectContaining({ code: "conflict", status: 409 }));
  });

  test("Should load an added model on request - and report the first model as default", async () => {
    const { pool } = fakePool([model("a")]);
    pool.add(model("b"));
    await pool.load("b");
    expect(pool.models().map(({ id, isDefault, state }) => ({ id, isDefault, state }))).toEqual([
      { id: "a", isDefault: true, state: "unloaded" },
      { id: "b", isDefault: false, state: "ready" },
    ]);
    await pool[Symbol.asyncDispose]();
  });

  test("Should unload an idle non-default model after keep_alive_seconds - and keep the default loaded", async () => {
    const { pool } = fakePool([model("a"), model("b", { keep_alive_seconds: 0.05 })]);
    await pool.start();
    await pool.load("b");
    await Bun.sleep(120);
    expect(pool.models().map((status) => status.state)).toEqual(["ready", "unloaded"]);
    await pool[Symbol.asyncDispose]();
  });

  test("Should apply a reloaded model list - new in, removed out, a changed one replaced, an unchanged one kept", async () => {
    const { pool, built } = fakePool([model("a"), model("b"), model("c")]);
    await pool.start();
    pool.reconcile([model("a"), model("c", { parallel: 4 }), model("d")]);
    await pool.drained();
    expect(pool.configs().map((config) => config.id)).toEqual(["a", "c", "d"]);
    expect(pool.configs()[1]?.parallel).toBe(4);
    expect(built.map(({ id, disposed }) => `${id}:${disposed}`)).toEqual(["a:false", "b:true", "c:true", "c:false", "d:false"]);
    expect(pool.isReady()).toBe(true);
    await pool[Symbol.asyncDispose]();
  });
});

describe("the pool's prompt cache", () => {
  test("Should list every model engine's cached scopes and forget an owner in each - so revocation reaches models the pool serves", async () => {
    const forgotten: string[] = [];
    const pool = createModelPool({
      models: [model("a"), model("b")],
      logger: memoryLogger().logger,
      createEngine: (config) => ({
        ...createFakeEngine({ models: [{ id: config.id }] }),
        promptCache: {
          scopes: () => [`account:${config.id}`, "account:shared"],
          forget: async () => void forgotten.push(config.id),
        },
      }),
    });
    expect(pool.promptCache?.scopes().sort()).toEqual(["account:a", "account:b", "account:shared"]);
    await pool.promptCache?.forget({ accountId: "shared" });
    expect(forgotten.sort()).toEqual(["a", "b"]);
  });
});
