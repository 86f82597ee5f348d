import { and, asc, desc, eq, gt, inArray, isNull, lt, lte, or, sql, type SQL } from "drizzle-orm";
import type { PgDb, PgTx } from "../db/pg-client";
import { auditLog, retainedPayloads, usageEvents } from "../db/pg-schema";
import { payloadConditions } from "./payload-conditions";
import type { PayloadRepository, PurgeCounts } from "./payload-repository";
import { appendPgAudit, lockAuditChain, writePgCheckpoint } from "./pg-audit-repository";

/** Payloads of an account: full rows by account id, anonymized rows through their request's metering row. */
export function pgPayloadsOf(db: PgDb | PgTx, accountId: string): SQL | undefined {
  const requests = db.select({ id: usageEvents.id }).from(usageEvents).where(eq(usageEvents.accountId, accountId));
  return or(eq(retainedPayloads.accountId, accountId), and(isNull(retainedPayloads.accountId), inArray(retainedPayloads.requestId, requests)));
}

const { ofRequest, purge: purgeConditions } = payloadConditions({ retainedPayloads, usageEvents });

/**
 * Folds the request rows matching `where` into per-day aggregates and deletes them
 * (src/store/sqlite-usage-rollup.ts on Postgres); returns the rows folded. Call under the chain lock,
 * which queues the purge and erasures so no two fold the same rows.
 */
export async function rollUpPgUsage(tx: PgTx, where: SQL): Promise<number> {
  await tx.execute(sql`
    insert into usage_daily (day, account_id, key_id, endpoint, model, requests, errors, prompt_tokens, completion_tokens, draft_tokens_accepted, cost_micros)
    select to_char(started_at at time zone 'UTC', 'YYYY-MM-DD'), account_id, key_id, endpoint, coalesce(model, ''),
           count(*), sum(case when status >= 400 then 1 else 0 end), sum(prompt_tokens), sum(completion_tokens),
           sum(coalesce(draft_tokens_accepted, 0)), sum(cost_micros)
    from usage_events where ${where}
    group by 1, 2, 3, 4, 5
    on conflict (day, account_id, key_id, endpoint, model) do update set
      requests = usage_daily.requests + excluded.requests,
      errors = usage_daily.errors + excluded.errors,
      prompt_tokens = usage_daily.prompt_tokens + excluded.prompt_tokens,
      completion_tokens = usage_daily.completion_tokens + excluded.completion_tokens,
      draft_tokens_accepted = usage_daily.draft_tokens_accepted + excluded.draft_tokens_accepted,
      cost_micros = usage_daily.cost_micros + excluded.cost_micros`);
  return (await tx.delete(usageEvents).where(where).returning({ id: usageEvents.id })).length;
}

/**
 * The payload aggregate on the shared Postgres store. Deleted rows are gone from every query at
 * once; their pages are reused and overwritten as autovacuum frees them (the SQLite store's
 * immediate vacuum has no counterpart here).
 */
export function createPgPayloadRepository(db: PgDb): PayloadRepository {
  return {
    async store(row) {
      await db.insert(retainedPayloads).values(row);
    },
    async ofAccount(accountId) {
      return db.select().from(retainedPayloads).where(pgPayloadsOf(db, accountId)).orderBy(asc(retainedPayloads.createdAt));
    },
    async forDraftTraining(at, model) {
      return db
        .select()
        .from(retainedPayloads)
        .where(
          and(
            eq(retainedPayloads.kind, "generation"),
            gt(retainedPayloads.expiresAt, at),
            sql`${retainedPayloads.purposes} @> '["draft_training"]'::jsonb`,
            model != null ? eq(retainedPayloads.model, model) : undefined,
          ),
        )
        .orderBy(asc(retainedPayloads.createdAt));
    },
    async find(which, at) {
      const [row] = await db.select().from(retainedPayloads).where(and(ofRequest(which), gt(retainedPayloads.expiresAt, at))).orderBy(desc(retainedPayloads.createdAt)).limit(1);
      return row ?? null;
    },
    async remove(which) {
      return (await db.delete(retainedPayloads).where(ofRequest(which)).returning({ id: retainedPayloads.id })).length;
    },
    purge: (cutoffs, { dryRun, signer, audit }) =>
      db.transaction(async (tx): Promise<PurgeCounts> => {
        // Two nodes purging at once take turns: the second counts and folds what the first left.
        await lockAuditChain(tx);
        const where = purgeConditions(cutoffs);
        const count = async (table: typeof retainedPayloads | typeof usageEvents | typeof auditLog, condition: SQL | undefined) =>
          Number((await tx.select({ n: sql<string>`count(*)` }).from(table).where(condition))[0]?.n ?? 0);
        const [lastOld] = cutoffs.auditBefore == null ? [] : await tx.select().from(auditLog).where(lt(auditLog.at, cutoffs.auditBefore)).orderBy(desc(auditLog.seq)).limit(1);
        const auditOld = lastOld == null ? 0 : await count(auditLog, lte(auditLog.seq, lastOld.seq));
        const result: PurgeCounts = {
          payloads_deleted: await count(retainedPayloads, where.payloads),
          usage_rows_rolled_up: await count(usageEvents, where.detail),
          client_ips_cleared: await count(usageEvents, where.clientIps),
          audit_entries_removed: auditOld,
          audit_checkpoint_seq: lastOld?.seq ?? null,
          space: null,
        };
        if (dryRun) return result;
        result.payloads_deleted = (await tx.delete(retainedPayloads).where(where.payloads).returning({ id: retainedPayloads.id })).length;
        result.client_ips_cleared = (await tx.update(usageEvents).set({ clientIp: null }).where(where.clientIps).returning({ id: usageEvents.id })).length;
        result.usage_rows_rolled_up = await rollUpPgUsage(tx, where.detail);
        if (lastOld != null) {
          await writePgCheckpoint(tx, lastOld, auditOld, cutoffs.at, signer);
          result.audit_entries_removed = (await tx.delete(auditLog).where(lte(auditLog.seq, lastOld.seq)).returning({ seq: auditLog.seq })).length;
        }
        const entry = audit(result);
        if (entry != null) await appendPgAudit(tx, entry, cutoffs.at);
        return result;
      }),
  };
}
