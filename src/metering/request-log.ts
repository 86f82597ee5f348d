import { and, desc, eq, gte, lt, or, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { Actor } from "../accounts/actor";
import type { usageEvents as pgUsageEvents } from "../db/pg-schema";
import type { usageEvents } from "../db/schema";
import { PermissionDeniedError } from "../errors";
import { accountScopeOf, inAccountScope, type AccountScope } from "../store/account-scope";
import type { UsageRepository } from "../store/usage-repository";

/** The status classes the log filters by; "client_error" is 4xx, "server_error" 5xx. */
const STATUS_CLASSES = { success: [100, 400], client_error: [400, 500], server_error: [500, 600] } as const;

export const RequestLogQuery = z.strictObject({
  limit: z
    .string()
    .regex(/^\d{1,4}$/, "expected a whole number")
    .transform(Number)
    .pipe(z.number().int().min(1).max(500))
    .default(50)
    .describe("rows per page, 1-500; default 50"),
  before: z.string().min(1).max(128).optional().describe("a request id from the previous page: rows older than it"),
  since: z.iso.datetime({ offset: true }).optional().describe("from this time (inclusive)"),
  key_id: z.string().min(1).max(128).optional(),
  status: z.enum(["success", "client_error", "server_error"]).optional().describe("success (1xx-3xx), client_error (4xx) or server_error (5xx)"),
});
export type RequestLogQuery = z.output<typeof RequestLogQuery>;

/**
 * The conditions of one request-log page on either backend's usage_events: the account scope,
 * the filters, and keyset paging on (started_at, id) below `cursor` (the `before` row's start),
 * so equal start times neither repeat nor vanish between pages.
 */
export function requestLogWhere(table: typeof usageEvents | typeof pgUsageEvents, scope: AccountScope, query: RequestLogQuery, cursor: Date | null): SQL | undefined {
  const where: (SQL | undefined)[] = [inAccountScope(scope, table.accountId)];
  if (query.key_id != null) where.push(eq(table.keyId, query.key_id));
  if (query.since != null) where.push(gte(table.startedAt, new Date(query.since)));
  if (query.status != null) {
    const [from, to] = STATUS_CLASSES[query.status];
    where.push(gte(table.status, from), lt(table.status, to));
  }
  if (cursor != null && query.before != null) where.push(or(lt(table.startedAt, cursor), and(eq(table.startedAt, cursor), lt(table.id, query.before))));
  return and(...where);
}

/** Newest first, then by id: the order requestLogWhere pages in. */
export const requestLogOrder = (table: typeof usageEvents | typeof pgUsageEvents) => [desc(table.startedAt), desc(table.id)];

/**
 * The request log, newest first: one metering row per /v1 request while it is kept at request
 * level (`[retention] metadata_detail_days`), metadata only. The client IP is left out: it is for
 * abuse investigation, not for browsing. A manager sees its own account tree; a user key nothing.
 */
export async function requestLog(usage: Pick<UsageRepository, "requestPage">, actor: Actor, query: RequestLogQuery) {
  if (actor.role === "user") throw new PermissionDeniedError("this key may not read the request log; it needs the admin or manager role");
  // One row more than asked says whether another page follows.
  const rows = await usage.requestPage(accountScopeOf(actor), { ...query, limit: query.limit + 1 });
  if (rows == null) return { object: "list" as const, data: [], has_more: false };
  return {
    object: "list" as const,
    data: rows.slice(0, query.limit).map((row) => ({
      id: row.id,
      started_at: row.startedAt.toISOString(),
      key_id: row.keyId,
      account_id: row.accountId,
      endpoint: row.endpoint,
      model: row.model,
      status: row.status,
      error_code: row.errorCode,
      prompt_tokens: row.promptTokens,
      completion_tokens: row.completionTokens,
      queue_ms: row.queueMs,
      ttft_ms: row.ttftMs,
      duration_ms: row.durationMs,
    })),
    has_more: rows.length > query.limit,
  };
}

export type RequestLogPage = Awaited<ReturnType<typeof requestLog>>;
