import { sql, type SQL } from "drizzle-orm";
import type { SyncDb } from "../db/sync-db";

/** Rows changed by a statement (bun:sqlite reports it from run()). */
export function changes(result: unknown): number {
  return (result as { changes?: number }).changes ?? 0;
}

/**
 * Folds the request-level metering rows matching `where` into per-day aggregates (usage_daily:
 * counts and sums per account, key, endpoint and model) and deletes them, so what remains has no
 * request id, timing or client IP but still adds up for billing. Returns the rows folded.
 */
export function rollUpUsage(tx: SyncDb, where: SQL): number {
  tx.run(sql`
    insert into usage_daily (day, account_id, key_id, endpoint, model, requests, errors, prompt_tokens, completion_tokens, draft_tokens_accepted, cost_micros)
    select strftime('%Y-%m-%d', started_at / 1000, 'unixepoch'), account_id, key_id, endpoint, coalesce(model, ''),
           count(*), sum(case when status >= 400 then 1 else 0 end), sum(prompt_tokens), sum(completion_tokens),
           sum(coalesce(draft_tokens_accepted, 0)), sum(cost_micros)
    from usage_events where ${where}
    group by 1, 2, 3, 4, 5
    on conflict (day, account_id, key_id, endpoint, model) do update set
      requests = requests + excluded.requests,
      errors = errors + excluded.errors,
      prompt_tokens = prompt_tokens + excluded.prompt_tokens,
      completion_tokens = completion_tokens + excluded.completion_tokens,
      draft_tokens_accepted = draft_tokens_accepted + excluded.draft_tokens_accepted,
      cost_micros = cost_micros + excluded.cost_micros`);
  return changes(tx.run(sql`delete from usage_events where ${where}`));
}
