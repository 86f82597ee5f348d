import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * Metering: one row per authenticated /v1 request, metadata only. There is deliberately no column
 * that could hold a prompt, a completion or a tool payload.
 */
export const usageEvents = sqliteTable(
  "usage_events",
  {
    /** The request id (x-request-id). */
    id: text("id").primaryKey(),
    keyId: text("key_id").notNull(),
    accountId: text("account_id").notNull(),
    /** e.g. "POST /v1/chat/completions". */
    endpoint: text("endpoint").notNull(),
    model: text("model"),
    startedAt: integer("started_at", { mode: "timestamp_ms" }).notNull(),
    queueMs: integer("queue_ms").notNull(),
    /** Time to first token (streams and non-streams alike), from admission; null without tokens. */
    ttftMs: integer("ttft_ms"),
    durationMs: integer("duration_ms").notNull(),
    promptTokens: integer("prompt_tokens").notNull(),
    /** Of prompt_tokens, those read from the prompt cache (the caller's own earlier requests). */
    cachedTokens: integer("cached_tokens").notNull().default(0),
    completionTokens: integer("completion_tokens").notNull(),
    draftTokensAccepted: integer("draft_tokens_accepted"),
    costMicros: integer("cost_micros").notNull(),
    status: integer("status").notNull(),
    errorCode: text("error_code"),
    /** For abuse investigation only; its retention window belongs to the retention policy. */
    clientIp: text("client_ip"),
  },
  (table) => [
    index("usage_events_key_time").on(table.keyId, table.startedAt),
    index("usage_events_account_time").on(table.accountId, table.startedAt),
    index("usage_events_time").on(table.startedAt),
  ],
);

export type UsageEventRow = typeof usageEvents.$inferSelect;
