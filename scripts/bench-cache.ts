/**
 * The prompt cache on a multi-turn conversation: a long history, then follow-up turns of a few
 * new words each, with the cache on and off; once for one account, once for two accounts whose
 * turns interleave (each must keep its own hits, never the other's), at each `parallel`. Enclave
 * runs as `enclave serve` in its own process (see enclave-serve-process.ts), each account calling
 * with a key of its own made through /admin; reports TTFT per turn (request to first streamed
 * text, over HTTP /v1/completions), the cached prompt tokens and prefill tokens/s of the cold turn.
 *
 * With LLAMA_SERVER pointing at a llama-server build (see llama-server-peer.ts) the same
 * conversations run against it at each `parallel` (its slots, `cache_prompt` on, the same
 * streaming requests), and a last table sets the two side by side.
 */
import { resolve } from "node:path";
import { fixed, forgedModel, machineInfo, printMachine, streamCompletion, writeResults } from "./bench-support";
import { type EnclaveServeProcess, startEnclaveServe } from "./enclave-serve-process";
import { llamaServerBinary, startLlamaServer } from "./llama-server-peer";
import { numberArg, scriptArgs } from "./script-args";

const values = scriptArgs("bench:cache", "bun run bench:cache [--preset bench|demo] [--levels 1,2,8] [--history 1500] [--turns 5] [--threads 2] [--servers enclave,llama-server]", {
  preset: { type: "string", default: "bench" },
  levels: { type: "string", default: "1,2,8" },
  history: { type: "string", default: "1500" },
  turns: { type: "string", default: "5" },
  threads: { type: "string", default: "2" },
  cache: { type: "string", default: "./.cache/forge" },
  servers: { type: "string", default: "enclave,llama-server" },
});
const servers = new Set(values.servers.split(","));
const levels = values.levels.split(",").map((level) => numberArg("levels", level));
const historyTokens = numberArg("history", values.history);
const turns = numberArg("turns", values.turns);
const threads = numberArg("threads", values.threads);
const machine = machineInfo(threads, values.preset);
printMachine(machine);

const model = await forgedModel(values.preset, values.cache);

const WORDS = "river stone cloud forest lantern meadow harbor signal copper violet thunder garden window mirror candle engine".split(" ");
const words = (count: number, seed: number) => Array.from({ length: count }, (_, index) => WORDS[(index * 7 + seed * 3 + index * index) % WORDS.length]).join(" ");

interface Turn {
  account: string;
  turn: number;
  ttftMs: number;
  promptTokens: number;
  cachedTokens: number;
}

type Send = (prompt: string, account: string) => Promise<{ ttftMs: number; text: string; promptTokens: number; cachedTokens: number }>;

/** `enclave serve` on the forged model with `parallel` sequences and the prompt cache scope `cache`. */
function serveEnclave(parallel: number, cache: string, contextSize: number): Promise<EnclaveServeProcess> {
  return startEnclaveServe({
    threads,
    models: [
      'id = "bench"', `path = ${JSON.stringify(resolve(model.target))}`, "default = true", `context_size = ${contextSize}`, `parallel = ${parallel}`,
      `threads = ${threads}`, 'speculative = "none"', "keep_alive_seconds = 0", `prompt_cache = "${cache}"`,
    ].join("\n"),
  });
}

/** Each account calls with a key of its own, made through /admin with the server's admin key, as an operator would. */
function throughEnclave(server: EnclaveServeProcess): Send {
  const keys = new Map<string, Promise<string>>();
  const admin = async (path: string, body: unknown) => {
    const response = await fetch(`${server.url}/admin${path}`, { method: "POST", headers: { ...server.headers, "content-type": "application/json" }, body: JSON.stringify(body) });
    if (response.status !== 201) throw new Error(`POST /admin${path} answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as { id: string; secret?: string };
  };
  const keyOf = (account: string) => {
    let key = keys.get(account);
    if (key == null) {
      key = admin("/accounts", { name: account }).then(async ({ id }) => (await admin("/keys", { name: account, account_id: id })).secret!);
      keys.set(account, key);
    }
    return key;
  };
  return async (prompt, account) => {
    const body = { model: "bench", prompt, max_tokens: 8, temperature: 0 };
    const result = await streamCompletion(`${server.url}/v1/completions`, body, { authorization: `Bearer ${await keyOf(account)}` });
    if (result.status !== 200) throw new Error(`enclave answered ${result.status}`);
    return result;
  };
}

/** llama-server knows no accounts: each conversation is just its prompts. */
const throughPeer =
  (url: string): Send =>
  async (prompt) => {
    // A fresh connection per turn: llama-server may close an idle kept-alive one just as the next turn reuses it (ECONNRESET).
    const result = await streamCompletion(`${url}/v1/completions`, { model: "bench", prompt, max_tokens: 8, temperature: 0, cache_prompt: true }, { connection: "close" });
    if (result.status !== 200) throw new Error(`llama-server answered ${result.status}`);
    return result;
  };

/** Words of the bench vocabulary per `tokens` tokens, as the server counts them (forged vocabularies split words finely). */
async function wordsPer(send: Send, tokens: number): Promise<number> {
  // Short enough for the smallest context this script makes, and no conversation's opening (seed
  // 50): llama-server, which knows no accounts, would start that conversation warm on it.
  const sample = 40;
  const { promptTokens } = await send(words(sample, 50), "acct_count");
  return Math.max(1, Math.round((tokens * sample) / promptTokens));
}
let historyWords = 0;
let turnWords = 0;

/** One conversation per account, their turns interleaved: turn 0 is the history, then `turns` follow-ups. */
async function conversation(send: Send, accounts: string[]): Promise<Turn[]> {
  const histories = new Map(accounts.map((account, index) => [account, words(historyWords, index + 1)]));
  const results: Turn[] = [];
  for (let turn = 0; turn <= turns; turn++) {
    for (const account of accounts) {
      const prompt = histories.get(account)!;
      const { ttftMs, text, promptTokens, cachedTokens } = await send(prompt, account);
      results.push({ account, turn, ttftMs, promptTokens, cachedTokens });
      histories.set(account, `${prompt}${text} ${words(turnWords, turn + 10)}`);
    }
  }
  return results;
}

const rows: { server: string; parallel: number; cache: string; accounts: number; turns: Turn[] }[] = [];

function report(server: string, parallel: number, cache: string, accounts: string[], result: Turn[]) {
  rows.push({ server, parallel, cache, accounts: accounts.length, turns: result });
  const cold = result.filter((turn) => turn.turn === 0);
  const warm = result.filter((turn) => turn.turn > 0);
  const coldMs = cold.reduce((sum, turn) => sum + turn.ttftMs, 0) / cold.length;
  const warmMs = warm.reduce((sum, turn) => sum + turn.ttftMs, 0) / warm.length;
  const prefill = cold[0]!.promptTokens / (cold[0]!.ttftMs / 1000);
  console.log(
    `${server.padEnd(12)}  parallel ${parallel}  cache ${cache.padEnd(7)}  accounts ${accounts.length}  prompt ${cold[0]!.promptTokens}  cold ${fixed(coldMs / 1000, 2)} s  ` +
      `warm mean ${fixed(warmMs / 1000, 2)} s (${fixed((100 * warmMs) / coldMs, 1)}% of cold)  prefill ${fixed(prefill, 0)} tok/s  ` +
      `per turn ${result.map((turn) => `${turn.account.slice(5, 6)}${turn.turn}:${fixed(turn.ttftMs / 1000, 2)}s/${turn.cachedTokens}`).join(" ")}`,
  );
}
const probes: { parallel: number; ownerColdMs: number; ownerWarmMs: number; probeMs: number; probeCachedTokens: number }[] = [];

/**
 * The side channel of issue 13: another account sends exactly a prompt the owner just sent. Its
 * TTFT must be the owner's cold one (no hit to time), while the owner's repeat is warm.
 */
async function probe(send: Send, parallel: number) {
  const prompt = words(historyWords, 99);
  const ownerCold = await send(prompt, `acct_owner${parallel}`);
  const ownerWarm = await send(prompt, `acct_owner${parallel}`);
  const other = await send(prompt, `acct_probe${parallel}`);
  probes.push({ parallel, ownerColdMs: ownerCold.ttftMs, ownerWarmMs: ownerWarm.ttftMs, probeMs: other.ttftMs, probeCachedTokens: other.cachedTokens });
  console.log(
    `enclave       parallel ${parallel}  another account sends the owner's prompt: owner cold ${fixed(ownerCold.ttftMs / 1000, 2)} s, owner repeat ${fixed(ownerWarm.ttftMs / 1000, 2)} s, ` +
      `other account ${fixed(other.ttftMs / 1000, 2)} s (${fixed(other.ttftMs / ownerCold.ttftMs, 2)}× cold, ${other.cachedTokens} cached tokens)`,
  );
}

const contextSize = historyTokens + 64 * (turns + 2) * 2 + 256;
for (const parallel of servers.has("enclave") ? levels : []) {
  for (const cache of ["account", "off"] as const) {
    await using server = await serveEnclave(parallel, cache, contextSize);
    const send = throughEnclave(server);
    if (historyWords === 0) [historyWords, turnWords] = [await wordsPer(send, historyTokens), await wordsPer(send, 30)];
    // Fresh account ids per run: a later run must not start warm on an earlier run's cache.
    for (const accounts of [[`acct_a${parallel}`], [`acct_c${parallel}`, `acct_d${parallel}`]]) {
      report("enclave", parallel, cache, accounts, await conversation(send, accounts));
    }
    if (cache !== "off") await probe(send, parallel);
  }
}

const peerBinary = llamaServerBinary();
if (peerBinary != null && servers.has("llama-server")) {
  for (const parallel of levels) {
    await using peer = await startLlamaServer(peerBinary, { model: model.target, parallel, contextPerSlot: contextSize, threads });
    if (historyWords === 0) [historyWords, turnWords] = [await wordsPer(throughPeer(peer.url), historyTokens), await wordsPer(throughPeer(peer.url), 30)];
    for (const accounts of [[`acct_a${parallel}`], [`acct_c${parallel}`, `acct_d${parallel}`]])
      try {
        report("llama-server", parallel, "prompt", accounts, await conversation(throughPeer(peer.url), accounts));
      } catch (error) {
        console.log(`llama-server  parallel ${parallel}  accounts ${accounts.length}  failed: ${(error as Error).message}\n${await peer.logTail()}`);
        break;
      }
  }
  const meanTtft = (server: string, parallel: number, accounts: number, warm: boolean) => {
    const turnsOf = rows.find((row) => row.server === server && row.parallel === parallel && row.accounts === accounts && row.cache !== "off")?.turns.filter((turn) => (turn.turn > 0) === warm);
    return turnsOf == null ? Number.NaN : turnsOf.reduce((sum, turn) => sum + turn.ttftMs, 0) / turnsOf.length / 1000;
  };
  console.log("\nside by side (mean TTFT, s; the cache on for both)");
  console.log("parallel  accounts  llama-server cold  warm  |  enclave cold  warm  (% of cold)  |  enclave warm / llama-server warm");
  for (const parallel of levels)
    for (const accounts of [1, 2]) {
      const peerWarm = meanTtft("llama-server", parallel, accounts, true);
      const ownCold = meanTtft("enclave", parallel, accounts, false);
      const ownWarm = meanTtft("enclave", parallel, accounts, true);
      console.log(
        `${String(parallel).padEnd(8)}  ${String(accounts).padEnd(8)}  ${fixed(meanTtft("llama-server", parallel, accounts, false), 2).padStart(17)}  ${fixed(peerWarm, 2).padStart(4)}  |  ` +
          `${fixed(ownCold, 2).padStart(12)}  ${fixed(ownWarm, 2).padStart(4)}  (${fixed((100 * ownWarm) / ownCold, 1)}%)  |  ${fixed(ownWarm / peerWarm, 2)}`,
      );
    }
}
console.log(`results: ${writeResults("cache", machine, { rows, probes })}`);
