import { and, asc, eq, gt, sql } from "drizzle-orm";
import type { SyncDb } from "../db/sync-db";
import { retainedPayloads, usageDaily, usageEvents } from "../db/schema";
import { promptOf, type PayloadStore } from "./payload-store";

/** One training/evaluation pair for a draft model: no ids of any kind, only model and text. */
export type DraftPair = { model: string; completion: string; finish_reason: string } & ({ messages: unknown[] } | { prompt: string });

/**
 * Prompt/completion pairs for draft-model training: only generations kept under a consent whose
 * purposes include "draft_training", still inside their window, text completions only (tool calls
 * are left out). ZDR traffic cannot appear: it was never stored.
 */
export function* draftPairs(db: SyncDb, payloads: PayloadStore, options: { now: number; model?: string }): Generator<DraftPair> {
  const rows = db
    .select()
    .from(retainedPayloads)
    .where(
      and(
        eq(retainedPayloads.kind, "generation"),
        gt(retainedPayloads.expiresAt, new Date(options.now)),
        sql`exists (select 1 from json_each(${retainedPayloads.purposes}) where value = 'draft_training')`,
        options.model != null ? eq(retainedPayloads.model, options.model) : undefined,
      ),
    )
    .orderBy(asc(retainedPayloads.createdAt))
    .all();
  for (const row of rows) {
    const opened = payloads.open(row);
    const content = opened.content;
    if (content?.kind !== "generation" || content.output.toolCalls.length > 0) continue;
    yield { model: row.model, ...promptOf(content.input), completion: content.output.text, finish_reason: content.output.finishReason };
  }
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
export function draftAcceptance(db: SyncDb): DraftAcceptanceRow[] {
  const detail = db
    .select({
      model: sql<string>`coalesce(${usageEvents.model}, '')`,
      requests: sql<number>`count(*)`,
      completion: sql<number>`coalesce(sum(${usageEvents.completionTokens}), 0)`,
      accepted: sql<number>`coalesce(sum(${usageEvents.draftTokensAccepted}), 0)`,
      reported: sql<number>`coalesce(sum(case when ${usageEvents.draftTokensAccepted} is null then 0 else ${usageEvents.completionTokens} end), 0)`,
    })
    .from(usageEvents)
    .groupBy(sql`1`)
    .all();
  const daily = db
    .select({
      model: usageDaily.model,
      requests: sql<number>`sum(${usageDaily.requests})`,
      completion: sql<number>`sum(${usageDaily.completionTokens})`,
      accepted: sql<number>`sum(${usageDaily.draftTokensAccepted})`,
      reported: sql<number>`sum(case when ${usageDaily.draftTokensAccepted} > 0 then ${usageDaily.completionTokens} else 0 end)`,
    })
    .from(usageDaily)
    .groupBy(usageDaily.model)
    .all();
  const byModel = new Map<string, { requests: number; completion: number; accepted: number; reported: number }>();
  for (const row of [...detail, ...daily]) {
    const entry = byModel.get(row.model) ?? { requests: 0, completion: 0, accepted: 0, reported: 0 };
    entry.requests += row.requests;
    entry.completion += row.completion;
    entry.accepted += row.accepted;
    entry.reported += row.reported;
    byModel.set(row.model, entry);
  }
  return [...byModel.entries()]
    .filter(([model]) => model !== "")
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([model, entry]) => ({
      model,
      requests: entry.requests,
      completion_tokens: entry.completion,
      draft_tokens_accepted: entry.accepted,
      acceptance: entry.reported > 0 ? +(entry.accepted / entry.reported).toFixed(4) : null,
    }));
}
