import { index, pgTable, text } from "drizzle-orm/pg-core";
import { instant, int64 } from "./columns";

/** Postgres twin of src/db/schema/usage-events.ts: metadata only, no column that could hold a payload. */
export const usageEvents = pgTable(
  "usage_events",
  {
    id: text("id").primaryKey(),
    keyId: text("key_id").notNull(),
    accountId: text("account_id").notNull(),
    endpoint: text("endpoint").notNull(),
    model: text("model"),
    startedAt: instant("started_at").notNull(),
    queueMs: int64("queue_ms").notNull(),
    ttftMs: int64("ttft_ms"),
    durationMs: int64("duration_ms").notNull(),
    promptTokens: int64("prompt_tokens").notNull(),
    cachedTokens: int64("cached_tokens").notNull().default(0),
    completionTokens: int64("completion_tokens").notNull(),
    draftTokensAccepted: int64("draft_tokens_accepted"),
    costMicros: int64("cost_micros").notNull(),
    status: int64("status").notNull(),
    errorCode: text("error_code"),
    clientIp: text("client_ip"),
  },
  (table) => [
    index("usage_events_key_time").on(table.keyId, table.startedAt),
    index("usage_events_account_time").on(table.accountId, table.startedAt),
    index("usage_events_time").on(table.startedAt),
  ],
);
