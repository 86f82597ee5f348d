import { and, desc, eq, gte, inArray, lt, or, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import { visibleAccounts } from "../accounts/account-tree";
import type { Actor } from "../accounts/actor";
import type { SyncDb } from "../db/sync-db";
import { usageEvents } from "../db/schema";
import { PermissionDeniedError } from "../errors";

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
 * The request log, newest first: one metering row per /v1 request while it is kept at request
 * level (`[retention] metadata_detail_days`), metadata only. The client IP is left out: it is for
 * abuse investigation, not for browsing. A manager sees its own account tree; a user key nothing.
 */
export function requestLog(db: SyncDb, actor: Actor, query: RequestLogQuery) {
  if (actor.role === "user") throw new PermissionDeniedError("this key may not read the request log; it needs the admin or manager role");
  const visible = visibleAccounts(db, actor);
  const where: SQL[] = [];
  if (visible !== "all") where.push(inArray(usageEvents.accountId, [...visible]));
  if (query.key_id != null) where.push(eq(usageEvents.keyId, query.key_id));
  if (query.since != null) where.push(gte(usageEvents.startedAt, new Date(query.since)));
  if (query.status != null) {
    const [from, to] = STATUS_CLASSES[query.status];
    where.push(gte(usageEvents.status, from), lt(usageEvents.status, to));
  }
  if (query.before != null) {
    // Keyset paging on (started_at, id): equal start times neither repeat nor vanish between pages.
    const cursor = db.select({ startedAt: usageEvents.startedAt }).from(usageEvents).where(eq(usageEvents.id, query.before)).get();
    if (cursor == null) return { object: "list" as const, data: [], has_more: false };
    where.push(or(lt(usageEvents.startedAt, cursor.startedAt), and(eq(usageEvents.startedAt, cursor.startedAt), lt(usageEvents.id, query.before)))!);
  }
  const rows = db
    .select()
    .from(usageEvents)
    .where(where.length > 0 ? and(...where) : sql`1`)
    .orderBy(desc(usageEvents.startedAt), desc(usageEvents.id))
    .limit(query.limit + 1)
    .all();
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

export type RequestLogPage = ReturnType<typeof requestLog>;
