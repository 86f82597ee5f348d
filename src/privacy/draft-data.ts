import type { PayloadRepository } from "../store/payload-repository";
import type { UsageRepository } from "../store/usage-repository";
import { promptOf, type PayloadStore } from "./payload-store";

/** One training/evaluation pair for a draft model: no ids of any kind, only model and text. */
export type DraftPair = { model: string; completion: string; finish_reason: string } & ({ messages: unknown[] } | { prompt: string });

/**
 * Prompt/completion pairs for draft-model training: only generations kept under a consent whose
 * purposes include "draft_training", still inside their window, text completions only (tool calls
 * are left out). ZDR traffic cannot appear: it was never stored.
 */
export async function draftPairs(rows: Pick<PayloadRepository, "forDraftTraining">, payloads: PayloadStore, options: { now: number; model?: string }): Promise<DraftPair[]> {
  const pairs: DraftPair[] = [];
  for (const row of await rows.forDraftTraining(new Date(options.now), options.model)) {
    const content = payloads.open(row).content;
    if (content?.kind !== "generation" || content.output.toolCalls.length > 0) continue;
    pairs.push({ model: row.model, ...promptOf(content.input), completion: content.output.text, finish_reason: content.output.finishReason });
  }
  return pairs;
}

export interface DraftAcceptanceRow {
  model: string;
  requests: number;
  completion_tokens: number;
  draft_tokens_accepted: number;
  /** Accepted draft tokens per generated token; null when no request reported draft acceptance. */
  acceptance: number | null;
}

/** Per-model draft acceptance from metering (request rows and daily aggregates): does a better draft pay? */
export async function draftAcceptance(usage: Pick<UsageRepository, "draftSums">): Promise<DraftAcceptanceRow[]> {
  return (await usage.draftSums())
    .filter((entry) => entry.model !== "")
    .sort((a, b) => a.model.localeCompare(b.model))
    .map((entry) => ({
      model: entry.model,
      requests: entry.requests,
      completion_tokens: entry.completion,
      draft_tokens_accepted: entry.accepted,
      acceptance: entry.reported > 0 ? +(entry.accepted / entry.reported).toFixed(4) : null,
    }));
}
