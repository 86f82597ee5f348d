import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Llama } from "node-llama-cpp";
import type { Caller } from "../../../src/caller/caller";
import { createRequestMeter } from "../../../src/caller/request-meter";
import type { ModelConfig } from "../../../src/config/schema";
import type { AccountRow, ApiKeyRow } from "../../../src/db/schema";
import type { Engine } from "../../../src/inference/engine";
import { createLlamaEngine } from "../../../src/inference/llama-engine";
import type { ChatMessage, GenerationRequest } from "../../../src/inference/types";
import { collect, forgeTinyPairs, modelConfig, sharedLlama, textRequest } from "./tiny-pair";

const silent = { debug() {}, info() {}, warn() {}, error() {} };
let forged: Awaited<ReturnType<typeof forgeTinyPairs>>;
let llama: Llama;
const engines: Engine[] = [];

async function engine(overrides: Partial<ModelConfig>): Promise<Engine> {
  const pair = forged.pairs.get(0.2)!;
  const created = createLlamaEngine({
    config: { engine: { gpu: "cpu", max_threads: 2 }, models: [modelConfig({ id: "tiny", path: pair.target, context_size: 2048, parallel: 1, ...overrides })] },
    logger: silent,
    loadLlama: async () => llama,
  });
  engines.push(created);
  await created.start();
  return created;
}

beforeAll(async () => {
  forged = await forgeTinyPairs([0.2]);
  llama = await sharedLlama();
});

afterAll(async () => {
  for (const each of engines) await each[Symbol.asyncDispose]();
  await llama?.dispose();
  forged?.[Symbol.dispose]();
});

function caller(account: string): Caller {
  return { key: { id: `key_${account}`, accountId: account } as ApiKeyRow, account: { id: account } as AccountRow, regions: null, meter: createRequestMeter(Date.now()) };
}

const history = "the quick brown fox jumps over the lazy dog and then it runs far away into the dark green forest where ";
const text = (prompt: string, who: Caller | undefined, maxTokens = 8): GenerationRequest => textRequest("tiny", prompt, { caller: who, sampling: { maxTokens } });

async function run(on: Engine, request: GenerationRequest) {
  const { text: output, done } = await collect(await on.generate(request));
  return { text: output, promptTokens: done!.usage.promptTokens, cachedTokens: done!.usage.cachedTokens ?? 0 };
}

describe("prompt cache in RAM (prompt_cache_mb)", () => {
  test("Should restore an account's prefix after another account took its only sequence - and never give it to that account", async () => {
    const single = await engine({});
    const a = await run(single, text(history, caller("acct_a")));
    const b = await run(single, text(history, caller("acct_b")));
    expect(b.cachedTokens).toBe(0);
    // A's prefix went to RAM when B took the sequence; B's goes there now.
    const status = single.models()[0]!.promptCache!;
    expect(status.ramPrefixes).toBe(1);
    expect(status.ramBytes).toBeGreaterThan(0);
    const again = await run(single, text(history, caller("acct_a")));
    expect(again.cachedTokens).toBe(again.promptTokens - 1);
    const bAgain = await run(single, text(history, caller("acct_b")));
    expect(bAgain.cachedTokens).toBe(bAgain.promptTokens - 1);
    expect(new Set([a.text, b.text, again.text, bAgain.text]).size).toBe(1);
    // A third account finds neither copy.
    expect((await run(single, text(history, caller("acct_c")))).cachedTokens).toBe(0);
  });

  test("Should keep two conversations of one account warm on one sequence - each turn restores its own and gives the cold text", async () => {
    const single = await engine({});
    const cold = await engine({ prompt_cache: "off" });
    const who = caller("acct_two_chats");
    const first = `${history}a story about a red ship sailing over a silver sea at night `;
    const second = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen ";
    await run(single, text(first, who));
    await run(single, text(second, who));
    const firstAgain = await run(single, text(`${first}and more`, who));
    const secondAgain = await run(single, text(`${second}and more`, who));
    expect(firstAgain.cachedTokens).toBeGreaterThan(firstAgain.promptTokens * 0.8);
    expect(secondAgain.cachedTokens).toBeGreaterThan(secondAgain.promptTokens * 0.8);
    expect(firstAgain.text).toBe((await run(cold, text(`${first}and more`, who))).text);
    expect(secondAgain.text).toBe((await run(cold, text(`${second}and more`, who))).text);
  });

  test("Should restore the draft's state with the target's - a chat on a drafting engine gives the cold text after its prefix came back from RAM", async () => {
    const pair = forged.pairs.get(0.2)!;
    const drafted = await engine({ speculative: "draft", draft: { path: pair.draft, min_tokens: 1, max_tokens: 16, min_confidence: 0.6, threads: 1, adaptive: false } });
    const cold = await engine({ prompt_cache: "off" });
    const turn1: ChatMessage[] = [
      { role: "system", content: history },
      { role: "user", content: "tell me more" },
    ];
    const chat = (messages: ChatMessage[], who: Caller): GenerationRequest =>
      textRequest("tiny", "", { input: { kind: "chat", messages, tools: [], toolChoice: "auto" }, caller: who, sampling: { maxTokens: 12 }, speculative: "on" });
    const first = await run(drafted, chat(turn1, caller("acct_draft_a")));
    await run(drafted, chat(turn1, caller("acct_draft_b")));
    const turn2: ChatMessage[] = [...turn1, { role: "assistant", content: first.text }, { role: "user", content: "and then what" }];
    const warm = await run(drafted, chat(turn2, caller("acct_draft_a")));
    expect(warm.cachedTokens).toBeGreaterThan(warm.promptTokens / 2);
    expect(warm.text).toBe((await run(cold, chat(turn2, caller("acct_draft_a")))).text);
  });

  test("Should not copy a prefix RAM holds already - a repeated greedy request's shorter answer is in its longer one", async () => {
    const single = await engine({});
    const who = caller("acct_repeat");
    // node-llama-cpp's sequence class is not exported: imported by path, to count the copies out.
    const path = Bun.resolveSync("node-llama-cpp", import.meta.dir).replace(/index\.js$/, "evaluator/LlamaContext/LlamaContext.js");
    const { LlamaContextSequence } = (await import(path)) as { LlamaContextSequence: { prototype: { saveStateToMemory(): Promise<unknown> } } };
    const original = LlamaContextSequence.prototype.saveStateToMemory;
    let copies = 0;
    LlamaContextSequence.prototype.saveStateToMemory = function () {
      copies++;
      return original.call(this);
    };
    try {
      await run(single, text(history, who, 40));
      // Its 40 answer tokens would be lost: copied out.
      await run(single, text(history, who, 1));
      expect(copies).toBe(1);
      await run(single, text(history, who, 40));
      // The same 40 again, and RAM has them.
      await run(single, text(history, who, 1));
      expect(copies).toBe(1);
      expect(single.models()[0]!.promptCache!.ramPrefixes).toBe(1);
    } finally {
      LlamaContextSequence.prototype.saveStateToMemory = original;
    }
  });

  test("Should drop an account's prefixes in RAM when it is forgotten - its repeat then reuses nothing", async () => {
    const single = await engine({});
    await run(single, text(history, caller("acct_gone")));
    await run(single, text(history, caller("acct_stays")));
    expect(single.promptCache?.scopes()).toContain("account:acct_gone");
    await single.promptCache?.forget({ accountId: "acct_gone" });
    expect(single.promptCache?.scopes()).not.toContain("account:acct_gone");
    expect(single.models()[0]!.promptCache!.ramPrefixes).toBe(0);
    expect((await run(single, text(history, caller("acct_gone")))).cachedTokens).toBe(0);
  });

  test("Should evict the least recently saved prefix when RAM is full - within prompt_cache_mb", async () => {
    const single = await engine({ prompt_cache_mb: 1 });
    // About 1400 tokens: one saved state takes most of the MiB.
    const long = Array.from({ length: 14 }, (_, i) => `${history}${i} `).join("");
    await run(single, text(long, caller("acct_mem_a"), 1));
    await run(single, text(long, caller("acct_mem_b"), 1));
    await run(single, text(long, caller("acct_mem_c"), 1));
    const status = single.models()[0]!.promptCache!;
    expect(status.ramPrefixes).toBe(1);
    expect(status.ramBytes).toBeLessThanOrEqual(1024 * 1024);
    // B's came back (C's was stored only after B took its own); A's was pushed out by B's.
    const b = await run(single, text(long, caller("acct_mem_b"), 1));
    expect(b.cachedTokens).toBe(b.promptTokens - 1);
    expect((await run(single, text(long, caller("acct_mem_a"), 1))).cachedTokens).toBe(0);
  });
});
