import { describe, expect, test } from "bun:test";
import { InvalidRequestError } from "../../../src/errors";
import { createChoicesEngine } from "../../../src/inference/choices-engine";
import { decorateEngine } from "../../../src/inference/decorate-engine";
import { createFakeEngine } from "../../../src/inference/fake-engine";
import type { GenerationEvent, GenerationRequest } from "../../../src/inference/types";
import { generationRequest } from "../../support/generation-request";

async function drain(events: AsyncIterable<GenerationEvent>) {
  const seen: GenerationEvent[] = [];
  for await (const event of events) seen.push(event);
  return seen;
}

function recorded(options: Parameters<typeof createFakeEngine>[0] = {}) {
  const fake = createFakeEngine(options);
  const requests: GenerationRequest[] = [];
  const inner = decorateEngine(fake, { generate: (request) => (requests.push(request), fake.generate(request)) });
  return { engine: createChoicesEngine(inner), fake, requests };
}

describe("createChoicesEngine", () => {
  test("Should merge every choice's text, tagged by index, into one stream with one done - the prompt counted once, the completions summed", async () => {
    const { engine, fake } = recorded();
    await fake.start();
    const events = await drain(await engine.generate(generationRequest({ choices: 2, sampling: { maxTokens: 3 } })));
    const dones = events.filter((event) => event.type === "done");
    expect(dones).toHaveLength(1);
    const textOf = (choice: number) => events.flatMap((event) => (event.type === "text" && (event.choice ?? 0) === choice ? [event.text] : [])).join("");
    expect(textOf(0)).toBe(" 4 5 6");
    expect(textOf(1)).toBe(" 4 5 6");
    expect(dones[0]).toMatchObject({ finishReason: "length", usage: { promptTokens: 4, completionTokens: 6 }, choices: [{ finishReason: "length" }, { finishReason: "length" }] });
  });

  test("Should give choice i the seed plus i - n answers reproducible with a seed", async () => {
    const { engine, fake, requests } = recorded({ models: [{ id: "fake", parallel: 4 }] });
    await fake.start();
    await drain(await engine.generate(generationRequest({ choices: 3, sampling: { seed: 40 } })));
    expect(requests.map((request) => request.sampling.seed)).toEqual([40, 41, 42]);
    expect(requests.every((request) => request.choices == null)).toBe(true);
  });

  test("Should refuse more choices than the model has sequences with 400 naming both numbers - it could never run them together", async () => {
    const { engine, fake, requests } = recorded({ models: [{ id: "fake", parallel: 2 }] });
    await fake.start();
    const refused = engine.generate(generationRequest({ choices: 3 }));
    await expect(refused).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(refused).rejects.toThrow("n is 3, but model 'fake' runs at most 2 sequences at once");
    expect(requests).toHaveLength(0);
  });

  test("Should finish two requests that each need every sequence - neither holds part of the pool while the other waits", async () => {
    const { engine, fake } = recorded({ models: [{ id: "fake", parallel: 2 }], tokenDelayMs: 2 });
    await fake.start();
    const both = Promise.all([0, 1].map(async () => drain(await engine.generate(generationRequest({ choices: 2, sampling: { maxTokens: 4 } })))));
    const finished = await Promise.race([both, Bun.sleep(5000).then(() => "wedged" as const)]);
    expect(finished).not.toBe("wedged");
  });

  test("Should free every choice's sequence when the reader stops early - no sequence left busy", async () => {
    const { engine, fake } = recorded({ models: [{ id: "fake", parallel: 2 }], tokenDelayMs: 5 });
    await fake.start();
    const events = await engine.generate(generationRequest({ choices: 2, sampling: { maxTokens: 100 } }));
    for await (const event of events) if (event.type === "text") break;
    for (let wait = 0; wait < 100 && fake.models()[0]!.busySequences > 0; wait++) await Bun.sleep(5);
    expect(fake.models()[0]!.busySequences).toBe(0);
  });

  test("Should pass a single-choice request straight through - no merging", async () => {
    const { engine, fake } = recorded();
    await fake.start();
    const events = await drain(await engine.generate(generationRequest({ sampling: { maxTokens: 2 } })));
    expect(events.at(-1)).not.toHaveProperty("choices");
    expect(events.some((event) => event.type === "text" && event.choice != null)).toBe(false);
  });
});
