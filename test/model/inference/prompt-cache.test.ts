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

function engine(overrides: Partial<ModelConfig>): Engine {
  const pair = forged.pairs.get(0.2)!;
  const created = createLlamaEngine({
    config: { engine: { gpu: "cpu", max_threads: 2 }, models: [modelConfig({ id: "tiny", path: pair.target, context_size: 512, parallel: 2, ...overrides })] },
    logger: silent,
    loadLlama: async () => llama,
  });
  engines.push(created);
  return created;
}
const draftOf = () => ({ path: forged.pairs.get(0.2)!.draft, min_tokens: 1, max_tokens: 16, min_confidence: 0.6, threads: 1, adaptive: false });

let cached: Engine;
let off: Engine;
let byKey: Engine;
let drafted: Engine;
let joining: Engine;

beforeAll(async () => {
  forged = await forgeTinyPairs([0.2]);
  llama = await sharedLlama();
  cached = engine({});
  off = engine({ prompt_cache: "off" });
  byKey = engine({ prompt_cache: "key" });
  drafted = engine({ speculative: "draft", draft: draftOf() });
  joining = engine({ parallel: 3 });
  await Promise.all(engines.map((each) => each.start()));
});

afterAll(async () => {
  for (const each of engines) await each[Symbol.asyncDispose]();
  await llama?.dispose();
  forged?.[Symbol.dispose]();
});

function caller(account: string, key = `key_${account}`): Caller {
  return { key: { id: key, accountId: account } as ApiKeyRow, account: { id: account } as AccountRow, regions: null, meter: createRequestMeter(Date.now()) };
}

const history = "the quick brown fox jumps over the lazy dog and then it runs far away into the dark green forest where ";
const text = (prompt: string, who: Caller | undefined, maxTokens = 8): GenerationRequest => textRequest("tiny", prompt, { caller: who, sampling: { maxTokens } });
const chat = (messages: ChatMessage[], who: Caller | undefined, overrides: Partial<GenerationRequest> = {}): GenerationRequest =>
  textRequest("tiny", "", { input: { kind: "chat", messages, tools: [], toolChoice: "auto" }, caller: who, sampling: { maxTokens: 12 }, ...overrides });

async function run(on: Engine, request: GenerationRequest) {
  const { text: output, done } = await collect(await on.generate(request));
  return { text: output, promptTokens: done!.usage.promptTokens, cachedTokens: done!.usage.cachedTokens ?? 0 };
}

describe("prompt cache", () => {
  test("Should reuse the cached prefix for the same account's repeat - at parallel 2 it lands on the sequence holding it", async () => {
    const who = caller("acct_same");
    const first = await run(cached, text(history, who));
    const second = await run(cached, text(history, who));
    expect(first.cachedTokens).toBe(0);
    expect(second.cachedTokens).toBe(second.promptTokens - 1);
    expect(second.text).toBe(first.text);
  });

  test("Should reuse nothing for another account sending exactly the same prompt - the cache is per account", async () => {
    const prompt = `${history}second story `;
    const a = await run(cached, text(prompt, caller("acct_a")));
    const b = await run(cached, text(prompt, caller("acct_b")));
    const again = await run(cached, text(prompt, caller("acct_a")));
    expect(a.cachedTokens).toBe(0);
    expect(b.cachedTokens).toBe(0);
    expect(b.text).toBe(a.text);
    // A's own cache survived B's request: B took the other sequence, or erased A's before using it.
    expect(again.cachedTokens === again.promptTokens - 1 || again.cachedTokens === 0).toBe(true);
  });

  test("Should reuse nothing with one sequence shared by two accounts and no RAM cache - the sequence is erased before the other account runs on it", async () => {
    const single = engine({ parallel: 1, prompt_cache_mb: 0 });
    await single.start();
    const a = await run(single, text(history, caller("acct_a")));
    const b = await run(single, text(history, caller("acct_b")));
    const a2 = await run(single, text(history, caller("acct_a")));
    expect(a.cachedTokens).toBe(0);
    expect(b.cachedTokens).toBe(0);
    expect(a2.cachedTokens).toBe(0);
    expect(new Set([a.text, b.text, a2.text]).size).toBe(1);
  });

  test("Should reuse nothing without a caller or with the cache off - no scope, nothing to share", async () => {
    const who = caller("acct_off");
    await run(off, text(history, who));
    expect((await run(off, text(history, who))).cachedTokens).toBe(0);
    await run(cached, text(history, undefined));
    expect((await run(cached, text(history, undefined))).cachedTokens).toBe(0);
  });

  test("Should reuse only the common prefix of a prompt that diverges in the middle - and generate as if cold", async () => {
    const who = caller("acct_diverge");
    const common = "one two three four five six seven eight nine ten eleven twelve ";
    await run(cached, text(`${common}red apples fall from trees`, who));
    const diverged = await run(cached, text(`${common}blue waves hit the shore`, who));
    const prefix = await cached.countTokens(text(common, who));
    expect(diverged.cachedTokens).toBeGreaterThan(prefix - 3);
    expect(diverged.cachedTokens).toBeLessThanOrEqual(prefix);
    expect(diverged.cachedTokens).toBeLessThan(diverged.promptTokens - 1);
    const cold = await run(off, text(`${common}blue waves hit the shore`, who));
    expect(diverged.text).toBe(cold.text);
  });

  test("Should give the same greedy text with and without the cache - a chat's second turn, with a draft model", async () => {
    const who = caller("acct_chat");
    const turn1: ChatMessage[] = [
      { role: "system", content: history },
      { role: "user", content: "tell me more" },
    ];
    const first = await run(drafted, chat(turn1, who, { speculative: "on" }));
    const turn2: ChatMessage[] = [...turn1, { role: "assistant", content: first.text }, { role: "user", content: "and then what" }];
    const warm = await run(drafted, chat(turn2, who, { speculative: "on" }));
    const cold = await run(off, chat(turn2, caller("acct_chat")));
    expect(warm.cachedTokens).toBeGreaterThan(warm.promptTokens / 2);
    expect(warm.text).toBe(cold.text);
    // Another account on the drafting engine: nothing reused, the same text.
    const other = await run(drafted, chat(turn2, caller("acct_chat_other"), { speculative: "on" }));
    expect(other.cachedTokens).toBe(0);
    expect(other.text).toBe(cold.text);
  });

  test("Should keep the cache per key with prompt_cache = \"key\" - another key of the same account reuses nothing", async () => {
    await run(byKey, text(history, caller("acct_k", "key_one")));
    expect((await run(byKey, text(history, caller("acct_k", "key_two")))).cachedTokens).toBe(0);
    expect((await run(byKey, text(history, caller("acct_k", "key_one")))).cachedTokens).toBeGreaterThan(0);
  });

  test("Should drop an account's cached prefixes when it is forgotten - revocation and erasure reuse nothing after", async () => {
    const who = caller("acct_forget");
    await run(cached, text(history, who));
    expect(cached.promptCache?.scopes()).toContain("account:acct_forget");
    await cached.promptCache?.forget({ accountId: "acct_forget" });
    expect(cached.promptCache?.scopes()).not.toContain("account:acct_forget");
    expect((await run(cached, text(history, who))).cachedTokens).toBe(0);
  });

  test("Should drop one key's prefixes in key scope and keep the others - revoking a key", async () => {
    await run(byKey, text(history, caller("acct_kr", "key_keep")));
    await run(byKey, text(history, caller("acct_kr", "key_gone")));
    await byKey.promptCache?.forget({ accountId: "acct_kr", keyId: "key_gone" });
    expect(byKey.promptCache?.scopes()).toEqual(expect.arrayContaining(["key:acct_kr:key_keep"]));
    expect(byKey.promptCache?.scopes()).not.toContain("key:acct_kr:key_gone");
  });
});

describe("prompt cache status and timing", () => {
  test("Should evict the least recently used account's prefix when every sequence holds one and there is no RAM cache - the others keep theirs", async () => {
    const pool = engine({ prompt_cache_mb: 0 });
    await pool.start();
    await run(pool, text(history, caller("acct_lru_a")));
    await run(pool, text(history, caller("acct_lru_b")));
    await run(pool, text(history, caller("acct_lru_c")));
    expect(pool.promptCache?.scopes().sort()).toEqual(["account:acct_lru_b", "account:acct_lru_c"]);
    expect((await run(pool, text(history, caller("acct_lru_b")))).cachedTokens).toBeGreaterThan(0);
    expect((await run(pool, text(history, caller("acct_lru_c")))).cachedTokens).toBeGreaterThan(0);
    expect((await run(pool, text(history, caller("acct_lru_a")))).cachedTokens).toBe(0);
  });

  test("Should give the cold text after another prompt of the account partly overwrote the sequence - only the surviving prefix is reused", async () => {
    const single = engine({ parallel: 1, prompt_cache_mb: 0 });
    await single.start();
    const who = caller("acct_overwrite");
    const common = "alpha beta gamma delta epsilon zeta eta theta iota kappa ";
    const original = `${common}lambda mu nu xi omicron pi rho sigma`;
    const first = await run(single, text(original, who));
    await run(single, text(`${common}one two three four five six seven eight nine ten`, who));
    const again = await run(single, text(original, who));
    expect(again.cachedTokens).toBeGreaterThan(0);
    expect(again.cachedTokens).toBeLessThan(again.promptTokens - 1);
    expect(again.text).toBe(first.text);
  });

  test("Should show the cache per model - sequences holding a scope and the KV cells they fill, none after it is forgotten", async () => {
    const status = engine({});
    await status.start();
    expect(status.models()[0]!.promptCache).toEqual({ scope: "account", sequences: 0, tokens: 0, ramPrefixes: 0, ramBytes: 0 });
    const first = await run(status, text(history, caller("acct_status")));
    const held = status.models()[0]!.promptCache!;
    expect(held.sequences).toBe(1);
    expect(held.tokens).toBeGreaterThanOrEqual(first.promptTokens);
    await status.promptCache?.forget({ accountId: "acct_status" });
    expect(status.models()[0]!.promptCache).toEqual({ scope: "account", sequences: 0, tokens: 0, ramPrefixes: 0, ramBytes: 0 });
  });

  test("Should answer another account's copy of a prompt as slowly as a cold one - no timing side channel, while the owner's repeat is fast", async () => {
    const prompt = Array.from({ length: 12 }, (_, i) => `${history}${i} `).join("");
    const timed = engine({ context_size: 2048 });
    await timed.start();
    const firstToken = async (who: Caller) => {
      const started = performance.now();
      const stream = await timed.generate(text(prompt, who, 1));
      const { done } = await collect(stream);
      return { ms: performance.now() - started, cachedTokens: done!.usage.cachedTokens ?? 0 };
    };
    const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const cold: number[] = [];
    const warm: number[] = [];
    const other: number[] = [];
    for (let round = 0; round < 5; round++) {
      const owner = caller(`acct_owner_${round}`);
      cold.push((await firstToken(owner)).ms);
      const repeat = await firstToken(owner);
      expect(repeat.cachedTokens).toBeGreaterThan(0);
      warm.push(repeat.ms);
      const probe = await firstToken(caller(`acct_probe_${round}`));
      expect(probe.cachedTokens).toBe(0);
      other.push(probe.ms);
    }
    // Generous margins: the owner's hit is several times faster than cold; the probe is within noise of cold.
    expect(median(warm)).toBeLessThan(median(cold) * 0.5);
    expect(median(other)).toBeGreaterThan(median(cold) * 0.6);
  });

  test("Should start a request that reuses its cached prefix while other sequences generate - it joins their batch at the next step", async () => {
    const who = caller("acct_join");
    await run(joining, text(history, who, 4));
    // Two long generations of other accounts on the other sequences, running before the repeat starts.
    const longs = await Promise.all(
      ["acct_long_a", "acct_long_b"].map(async (account, index) => {
        const events = (await joining.generate(text(`${"ab".repeat(index + 1)} once upon a time `, caller(account), 400)))[Symbol.asyncIterator]();
        await events.next();
        // Wrapped: an async function returning a promise would wait for it.
        return {
          done: (async () => {
            while (!(await events.next()).done);
            return performance.now();
          })(),
        };
      }),
    );
    const repeat = await run(joining, text(history, who, 4));
    const repeatDone = performance.now();
    expect(repeat.cachedTokens).toBeGreaterThan(0);
    // Before, erasing the sequence's stale tail waited for the context lock the batch loop held until every generation ended.
    expect(repeatDone).toBeLessThan(Math.min(...(await Promise.all(longs.map((long) => long.done)))));
  });
});
