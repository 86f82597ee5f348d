import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLlama, type Llama, LlamaCompletion, LlamaContext, type LlamaContextSequence } from "node-llama-cpp";
import { configSchema, type ModelConfig } from "../../../src/config/schema";
import { type ForgeOptions, forgePair, resolveForgeOptions } from "../../../src/forge";
import type { GenerationEvent, GenerationRequest } from "../../../src/inference/types";
import { generationRequest } from "../../support/generation-request";

export interface ForgedTinyPair {
  options: ForgeOptions;
  target: string;
  draft: string;
}

/** Forges the tiny pair at each disagreement level into a fresh temporary directory. */
export async function forgeTinyPairs(disagreements: number[]): Promise<{ dir: string; pairs: Map<number, ForgedTinyPair>; [Symbol.dispose](): void }> {
  const dir = mkdtempSync(join(tmpdir(), "enclave-inference-"));
  const pairs = new Map<number, ForgedTinyPair>();
  for (const draftDisagreement of disagreements) {
    const options = resolveForgeOptions("tiny", { preset: `tiny-d${Math.round(draftDisagreement * 100)}`, draftDisagreement });
    const manifest = await forgePair(options, dir);
    pairs.set(draftDisagreement, { options, target: join(dir, manifest.target.file), draft: join(dir, manifest.draft.file) });
  }
  return { dir, pairs, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

export function sharedLlama(): Promise<Llama> {
  return getLlama({ gpu: false, build: "never", skipDownload: true, maxThreads: 2, logLevel: "error" as never });
}

export function modelConfig(overrides: Partial<ModelConfig> & Pick<ModelConfig, "id" | "path">): ModelConfig {
  const parsed = configSchema.parse({ models: [{ id: overrides.id, path: overrides.path }] }).models[0]!;
  return { ...parsed, context_size: 256, threads: 1, ...overrides };
}

export function textRequest(model: string, prompt: string, overrides: Parameters<typeof generationRequest>[0] = {}): GenerationRequest {
  return generationRequest({ model, input: { kind: "text", prompt }, ...overrides });
}

export async function collect(stream: AsyncIterable<GenerationEvent>) {
  const events: GenerationEvent[] = [];
  for await (const event of stream) events.push(event);
  const text = events.flatMap((event) => (event.type === "text" ? [event.text] : [])).join("");
  const done = events.find((event) => event.type === "done");
  return { events, text, done: done?.type === "done" ? done : undefined };
}

/** A greedy-by-default completion on a sequence that stays in use after it: its text, stop reason and the tokens left in the sequence. */
export async function complete(sequence: LlamaContextSequence, prompt: string, options: Parameters<LlamaCompletion["generateCompletionWithMeta"]>[1]) {
  const completion = new LlamaCompletion({ contextSequence: sequence, autoDisposeSequence: false });
  try {
    const { response, metadata } = await completion.generateCompletionWithMeta(prompt, { repeatPenalty: false, ...options });
    return { text: response, stopReason: metadata.stopReason, contextTokens: [...sequence.contextTokens] };
  } finally {
    completion.dispose();
  }
}

/** An object's methods, the patch's internal ones included (they are not in its types), for spyOn. */
export function internals(object: object): Record<string, (...args: unknown[]) => unknown> {
  return object as Record<string, (...args: unknown[]) => unknown>;
}

/**
 * Interrupts every run from now until disposed, counting the interrupts: on the JavaScript thread through
 * `LlamaContext.runInterrupted` (the run ends before its next token or step), in async works through the addon's
 * interruptRun as each decodeRun starts (it ends after its first), as a decode queued during it does.
 */
export function interruptEveryRun(inWorker: boolean): { interrupts: number } & Disposable {
  if (!inWorker) {
    const before = LlamaContext.runInterrupted;
    const counts = { interrupts: 0, [Symbol.dispose]: () => void (LlamaContext.runInterrupted = before) };
    LlamaContext.runInterrupted = () => ++counts.interrupts > 0;
    return counts;
  }
  const prototype = internals(LlamaContext.prototype);
  const original = prototype._decodeRunInWorker!;
  const counts = { interrupts: 0, [Symbol.dispose]: () => void (prototype._decodeRunInWorker = original) };
  prototype._decodeRunInWorker = function (this: { _ctx: { interruptRun(): void } }, ...args: unknown[]) {
    counts.interrupts++;
    this._ctx.interruptRun();
    return original.apply(this, args);
  };
  return counts;
}
