import { and, gte, inArray, lt, eq, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import { visibleAccounts } from "../accounts/account-tree";
import type { Actor } from "../accounts/actor";
import { PermissionDeniedError } from "../auth/auth-errors";
import type { SyncDb } from "../db/sync-db";
import { usageEvents } from "../db/schema";

const DIMENSIONS = ["key", "account", "model", "day"] as const;
type Dimension = (typeof DIMENSIONS)[number];

const instant = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()])
  .describe("ISO 8601 date (UTC midnight) or date-time");

export const UsageQuery = z.strictObject({
  group_by: z
    .string()
    .default("day")
    .transform((text, ctx) => {
      const parts = text.split(",").map((part) => part.trim());
      const unknown = parts.filter((part) => !(DIMENSIONS as readonly string[]).includes(part));
      if (unknown.length > 0 || parts.length === 0) {
        ctx.addIssue({ code: "custom", message: `expected a comma-separated list of ${DIMENSIONS.join(", ")}; got '${unknown[0] ?? text}'` });
        return z.NEVER;
      }
      return [...new Set(parts)] as Dimension[];
    })
    .describe("comma-separated: key, account, model, day"),
  since: instant.optional().describe("from this time (inclusive)"),
  until: instant.optional().describe("up to this time (exclusive)"),
  key_id: z.string().min(1).optional(),
  account_id: z.string().min(1).optional(),
});
export type UsageQuery = z.output<typeof UsageQuery>;

export interface UsageRow {
  key_id?: string;
  account_id?: string;
  model?: string | null;
  day?: string;
  requests: number;
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  cost_micros: number;
}

const columns: Record<Dimension, SQL> = {
  key: sql`${usageEvents.keyId}`,
  account: sql`${usageEvents.accountId}`,
  model: sql`${usageEvents.model}`,
  day: sql`strftime('%Y-%m-%d', ${usageEvents.startedAt} / 1000, 'unixepoch')`,
};
const names: Record<Dimension, keyof UsageRow> = { key: "key_id", account: "account_id", model: "model", day: "day" };

/**
 * Metered usage aggregated by the chosen dimensions over a time range. A manager sees only the
 * accounts in its own tree; a user key sees nothing.
 */
export function usageReport(db: SyncDb, actor: Actor, query: UsageQuery): UsageRow[] {
  if (actor.role === "user") throw new PermissionDeniedError("this key may not read usage; it needs the admin or manager role");
  const visible = visibleAccounts(db, actor);
  const conditions: SQL[] = [];
  if (visible !== "all") conditions.push(inArray(usageEvents.accountId, [...visible]));
  if (query.since != null) conditions.push(gte(usageEvents.startedAt, new Date(query.since)));
  if (query.until != null) conditions.push(lt(usageEvents.startedAt, new Date(query.until)));
  if (query.key_id != null) conditions.push(eq(usageEvents.keyId, query.key_id));
  if (query.account_id != null) conditions.push(eq(usageEvents.accountId, query.account_id));

  const selection = Object.fromEntries(query.group_by.map((dimension) => [names[dimension], columns[dimension]]));
  const groups = query.group_by.map((dimension) => columns[dimension]);
  return db
    .select({
      ...selection,
      requests: sql<number>`count(*)`,
      errors: sql<number>`coalesce(sum(case when ${usageEvents.status} >= 400 then 1 else 0 end), 0)`,
      prompt_tokens: sql<number>`coalesce(sum(${usageEvents.promptTokens}), 0)`,
      completion_tokens: sql<number>`coalesce(sum(${usageEvents.completionTokens}), 0)`,
      cost_micros: sql<number>`coalesce(sum(${usageEvents.costMicros}), 0)`,
    })
    .from(usageEvents)
    .where(and(...conditions))
    .groupBy(...groups)
    .orderBy(...groups)
    .all() as UsageRow[];
}
