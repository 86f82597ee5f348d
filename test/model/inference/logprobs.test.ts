import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Llama, LlamaCompletion, type LlamaModel, type Token } from "node-llama-cpp";
import { fixedCallerGate } from "../../support/fixed-caller-gate";
import { createOpenAiRoutes } from "../../../src/api/openai/routes";
import { expectedChatReply, expectedGreedyText } from "../../../src/forge";
import { byteTokenId, charTokenId } from "../../../src/forge/forge-vocab";
import type { Engine } from "../../../src/inference/engine";
import { createLlamaEngine } from "../../../src/inference/llama-engine";
import { createLogprobCapture, splitText } from "../../../src/inference/logprob-capture";
import type { GenerationRequest, TokenLogprob } from "../../../src/inference/types";
import { createTestApp, request } from "../../support/test-app";
import { collect, forgeTinyPairs, modelConfig, sharedLlama, textRequest } from "./tiny-pair";

const silent = { debug() {}, info() {}, warn() {}, error() {} };
let forged: Awaited<ReturnType<typeof forgeTinyPairs>>;
let llama: Llama;
let engine: Engine;
let model: LlamaModel;

beforeAll(async () => {
  forged = await forgeTinyPairs([0.2]);
  llama = await sharedLlama();
  const pair = forged.pairs.get(0.2)!;
  const draft = { path: pair.draft, min_tokens: 1, max_tokens: 8, min_confidence: 0, threads: 1, adaptive: false };
  engine = createLlamaEngine({
    config: {
      engine: { gpu: "cpu", max_threads: 2 },
      models: [
        modelConfig({ id: "tiny", path: pair.target, parallel: 2 }),
        modelConfig({ id: "drafted", path: pair.target, speculative: "draft", draft }),
        // Room for the function documentation the chat template adds.
        modelConfig({ id: "wide", path: pair.target, context_size: 2048 }),
      ],
    },
    logger: silent,
    loadLlama: async () => llama,
  });
  await engine.start();
  model = await llama.loadModel({ modelPath: pair.target });
});

afterAll(async () => {
  await engine?.[Symbol.asyncDispose]();
  await model?.dispose();
  await llama?.dispose();
  forged?.[Symbol.dispose]();
});

const sampling = (overrides: Partial<GenerationRequest["sampling"]> = {}) => ({ ...textRequest("", "").sampling, ...overrides });
const chatInput = (overrides: Partial<Extract<GenerationRequest["input"], { kind: "chat" }>> = {}) => ({
  kind: "chat" as const,
  messages: [{ role: "user" as const, content: "hello" }],
  tools: [],
  toolChoice: "none" as const,
  ...overrides,
});

/** Runs a request with and without logprobs; returns both, and the logprobs of the second. */
async function withAndWithout(request: GenerationRequest, topLogprobs: number) {
  const plain = await collect(await engine.generate({ ...request, topLogprobs: null }));
  const logged = await collect(await engine.generate({ ...request, topLogprobs }));
  const logprobs = logged.events.flatMap((event) => (event.type === "text" ? (event.logprobs ?? []) : []));
  return { plain, logged, logprobs };
}

/** The forge's successor rule makes the greedy token all but certain, and the top alternative. */
function expectConfident(logprobs: TokenLogprob[], top: number) {
  for (const entry of logprobs) {
    expect(entry.logprob).toBeLessThanOrEqual(0);
    expect(entry.logprob).toBeGreaterThan(Math.log(0.9));
    expect(entry.top).toHaveLength(top);
    if (top > 0) {
      expect(entry.top[0]!.logprob).toBe(entry.logprob);
      // The chosen token's text; "" only where the detokenizer drops a first space.
      if (entry.token !== "") expect(entry.top[0]!.token).toBe(entry.token);
    }
    for (let i = 1; i < entry.top.length; i++) expect(entry.top[i]!.logprob).toBeLessThanOrEqual(entry.top[i - 1]!.logprob);
  }
}

describe("logprobs on the tiny forged model", () => {
  test("a greedy text completion is the same with logprobs, one per generated token, joining to the text", async () => {
    const { options } = forged.pairs.get(0.2)!;
    const { plain, logged, logprobs } = await withAndWithout(textRequest("tiny", "abc", { sampling: sampling({ maxTokens: 20 }) }), 3);
    expect(plain.text).toBe(expectedGreedyText("abc", 20, options));
    expect(logged.text).toBe(plain.text);
    expect(logged.done).toEqual(plain.done!);
    expect(logged.done?.finishReason).toBe("length");
    expect(logprobs).toHaveLength(20);
    expect(logprobs.map((entry) => entry.token).join("")).toBe(logged.text);
    expectConfident(logprobs, 3);
    // Every text event carries the logprobs of exactly its own tokens.
    for (const event of logged.events) if (event.type === "text") expect(event.logprobs?.map((entry) => entry.token).join("")).toBe(event.text);
  });

  test("a greedy chat reply is the same with logprobs and ends by itself with finishReason stop", async () => {
    const { options } = forged.pairs.get(0.2)!;
    const { plain, logged, logprobs } = await withAndWithout(textRequest("tiny", "", { input: chatInput(), sampling: sampling({ maxTokens: 64 }) }), 5);
    expect(plain.text).toBe(expectedChatReply(options));
    expect(logged.text).toBe(plain.text);
    expect(logged.done).toEqual(plain.done!);
    expect(logged.done?.finishReason).toBe("stop");
    expect(logprobs.map((entry) => entry.token)).toEqual([..."ABCDEFGHIJKLMNOPQRSTUVWXYZ."]);
    expectConfident(logprobs, 5);
  });

  test("a stop sequence ends the text before it and no token of it gets a logprob", async () => {
    const { plain, logged, logprobs } = await withAndWithout(textRequest("tiny", "abc", { sampling: sampling({ maxTokens: 20, stop: ["hij"] }) }), 1);
    expect(logged.text).toBe("defg");
    expect(logged.text).toBe(plain.text);
    expect(logged.done).toEqual(plain.done!);
    expect(logprobs.map((entry) => entry.token)).toEqual(["d", "e", "f", "g"]);
  });

  test("a first space the detokenizer drops is a token with empty text, still counted and logged", async () => {
    const { logged, logprobs } = await withAndWithout(textRequest("tiny", "xyz", { sampling: sampling({ maxTokens: 3 }) }), 1);
    expect(logged.text).toBe("ab");
    expect(logprobs.map((entry) => entry.token)).toEqual(["", "a", "b"]);
    expect(logged.done?.usage.completionTokens).toBe(3);
  });

  test("top 0 gives each token's own logprob, the same as with alternatives, and no alternatives", async () => {
    const request = textRequest("tiny", "abc", { sampling: sampling({ maxTokens: 5 }) });
    const { logged, logprobs } = await withAndWithout(request, 0);
    expect(logprobs).toHaveLength(logged.done!.usage.completionTokens);
    expectConfident(logprobs, 0);
    const withTop = (await withAndWithout(request, 1)).logprobs;
    logprobs.forEach((entry, index) => expect(entry.logprob).toBeCloseTo(withTop[index]!.logprob, 5));
  });

  test("a banned token is never an alternative", async () => {
    const d = charTokenId("d")!;
    const { plain, logged, logprobs } = await withAndWithout(textRequest("tiny", "abc", { sampling: sampling({ maxTokens: 1, logitBias: { [d]: -100 } }) }), 20);
    expect(logged.text).toBe(plain.text);
    expect(logged.text).not.toBe("d");
    expect(logprobs[0]!.top.map((alternative) => alternative.token)).not.toContain("d");
    expect(logprobs[0]!.top.every((alternative) => Number.isFinite(alternative.logprob))).toBe(true);
  });

  test("json_schema output under a grammar is the same with logprobs and still parses", async () => {
    const schema = { type: "object", properties: { unit: { enum: ["celsius", "fahrenheit"] }, ok: { type: "boolean" } }, required: ["unit", "ok"] };
    const request = textRequest("tiny", "weather", { responseFormat: { type: "json_schema", name: "w", schema }, sampling: sampling({ maxTokens: 40 }) });
    const { plain, logged, logprobs } = await withAndWithout(request, 2);
    expect(logged.text).toBe(plain.text);
    expect(JSON.parse(logged.text).unit).toMatch(/celsius|fahrenheit/);
    expect(logprobs.map((entry) => entry.token).join("")).toBe(logged.text);
    // Masked by the grammar, tokens it forbids have probability 0 and are not listed.
    for (const entry of logprobs) for (const alternative of entry.top) expect(Number.isFinite(alternative.logprob)).toBe(true);
  });

  test("sampled text with a seed is the same with logprobs, and its logprobs come from the sampling distribution", async () => {
    const request = textRequest("tiny", "abc", { sampling: sampling({ maxTokens: 24, temperature: 1.5, seed: 7 }) });
    const { plain, logged, logprobs } = await withAndWithout(request, 20);
    expect(logged.text).toBe(plain.text);
    expect(logprobs.map((entry) => entry.token).join("")).toBe(logged.text);
    for (const entry of logprobs) {
      expect(entry.logprob).toBeLessThanOrEqual(0);
      expect(entry.top.length).toBeLessThanOrEqual(20);
      expect(entry.top.length).toBeGreaterThan(0);
    }
  });

  test("with tools offered the text and logprobs match the run without them", async () => {
    const tools = [{ name: "get_time", description: "the time", parameters: { type: "object", properties: {} } }];
    const { plain, logged, logprobs } = await withAndWithout(textRequest("wide", "", { input: chatInput({ tools, toolChoice: "auto" }), sampling: sampling({ maxTokens: 64 }) }), 1);
    expect(logged.text).toBe(plain.text);
    expect(logged.done).toEqual(plain.done!);
    expect(logprobs.map((entry) => entry.token).join("")).toBe(logged.text);
  });

  test("a forced tool call has no text and so no logprobs", async () => {
    const tools = [{ name: "set_unit", parameters: { type: "object", properties: { unit: { enum: ["c", "f"] } }, required: ["unit"] } }];
    const { logged, logprobs } = await withAndWithout(textRequest("tiny", "", { input: chatInput({ tools, toolChoice: { name: "set_unit" } }), sampling: sampling({ maxTokens: 40 }) }), 1);
    expect(logged.done?.finishReason).toBe("tool_calls");
    expect(logprobs).toEqual([]);
  });

  test("with a draft model the text is the same and every token still has its logprob", async () => {
    const { options } = forged.pairs.get(0.2)!;
    const { logged, logprobs } = await withAndWithout(textRequest("drafted", "abc", { sampling: sampling({ maxTokens: 40 }) }), 2);
    expect(logged.text).toBe(expectedGreedyText("abc", 40, options));
    expect(logprobs).toHaveLength(40);
    expectConfident(logprobs, 2);
    expect(logged.done?.usage.draftTokensAccepted).toBeGreaterThan(0);
  });

  test("aborting a logprobs stream frees the sequence for a plain request", async () => {
    const controller = new AbortController();
    const stream = await engine.generate(textRequest("tiny", "abc", { topLogprobs: 2, signal: controller.signal, sampling: sampling({ maxTokens: 200 }) }));
    let chunks = 0;
    for await (const event of stream) if (event.type === "text" && ++chunks === 3) controller.abort();
    await Bun.sleep(20);
    expect(engine.models()[0]?.busySequences).toBe(0);
    const { options } = forged.pairs.get(0.2)!;
    const { text, events } = await collect(await engine.generate(textRequest("tiny", "abc")));
    expect(text).toBe(expectedGreedyText("abc", 16, options));
    expect(events.some((event) => event.type === "text" && event.logprobs != null)).toBe(false);
  });
});

describe("logprob capture", () => {
  test("disposing it gives the sequence back its own evaluate", async () => {
    await using context = await model.createContext({ contextSize: 64, threads: 1 });
    const sequence = context.getSequence();
    const capture = createLogprobCapture(sequence, 1);
    expect(Object.hasOwn(sequence, "evaluate")).toBe(true);
    const completion = new LlamaCompletion({ contextSequence: sequence, autoDisposeSequence: false });
    let tokens: Token[] = [];
    const text = await completion.generateCompletion("abc", { maxTokens: 3, onToken: (released) => (tokens = released) });
    capture.released(tokens);
    expect(capture.take(text).map((entry) => entry.token)).toEqual([text]);
    capture.check();
    capture[Symbol.dispose]();
    expect(Object.hasOwn(sequence, "evaluate")).toBe(false);
  });

  test("a released token that was never sampled fails the check instead of reporting a made-up logprob", async () => {
    await using context = await model.createContext({ contextSize: 64, threads: 1 });
    const capture = createLogprobCapture(context.getSequence(), 1);
    capture.released([charTokenId("q")! as Token]);
    expect(() => capture.check()).toThrow(/was not sampled/);
    capture[Symbol.dispose]();
  });

  const e = [0xc3, 0xa9].map((byte) => byteTokenId(byte) as Token);
  const a = charTokenId("a")! as Token;
  const b = charTokenId("b")! as Token;
  test.each([
    ["a character split over two byte tokens goes to the token that completes it", e, ["", "é"]],
    ["text around a split character stays with its own tokens", [a, ...e, b], ["a", "", "é", "b"]],
    ["single-character tokens are each their own text", [a, b, a], ["a", "b", "a"]],
  ] as const)("splitText: %s", (_, tokens, pieces) => {
    const text = model.detokenize(tokens, false, [a]);
    expect(splitText(model, tokens, text, [a])).toEqual([...pieces]);
    expect(pieces.join("")).toBe(text);
  });
});

describe("logprobs through the OpenAI routes on the tiny model", () => {
  const app = () => createTestApp({ engine, routes: [createOpenAiRoutes({ engine, gate: fixedCallerGate(), now: () => 1_750_000_000_000 })] }).app;
  const post = (path: string, json: unknown) => request(path, { method: "POST", json });

  test("chat returns choices[].logprobs.content with token, logprob, bytes and top_logprobs", async () => {
    const response = await app().handle(post("/v1/chat/completions", { model: "tiny", messages: [{ role: "user", content: "hi" }], max_tokens: 3, logprobs: true, top_logprobs: 2 }));
    expect(response.status).toBe(200);
    const body = (await response.json()) as any;
    expect(body.choices[0].message.content).toBe("ABC");
    const content = body.choices[0].logprobs.content;
    expect(content.map((entry: any) => entry.token)).toEqual(["A", "B", "C"]);
    expect(content[0].bytes).toEqual([65]);
    expect(content[0].top_logprobs).toHaveLength(2);
    expect(content[0].top_logprobs[0]).toEqual({ token: "A", logprob: content[0].logprob, bytes: [65] });
  });

  test("completions return tokens, token_logprobs, top_logprobs and text_offset", async () => {
    const response = await app().handle(post("/v1/completions", { model: "tiny", prompt: "abc", max_tokens: 4, logprobs: 1 }));
    expect(response.status).toBe(200);
    const { logprobs, text } = ((await response.json()) as any).choices[0];
    expect(text).toBe("defg");
    expect(logprobs.tokens).toEqual(["d", "e", "f", "g"]);
    expect(logprobs.text_offset).toEqual([3, 4, 5, 6]);
    expect(logprobs.token_logprobs.every((value: number) => value <= 0 && value > Math.log(0.9))).toBe(true);
    expect(Object.keys(logprobs.top_logprobs[0])).toEqual(["d"]);
  });
});
