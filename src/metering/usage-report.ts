import { sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { Actor } from "../accounts/actor";
import type { AccountRepository } from "../store/account-repository";
import type { UsageRepository } from "../store/usage-repository";
import { PermissionDeniedError } from "../errors";

const DIMENSIONS = ["key", "account", "model", "day"] as const;
export type UsageDimension = (typeof DIMENSIONS)[number];
type Dimension = UsageDimension;

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

const names: Record<Dimension, keyof UsageRow> = { key: "key_id", account: "account_id", model: "model", day: "day" };

/**
 * Metered usage aggregated by the chosen dimensions over a time range, from request rows and the
 * daily roll-ups of older ones alike (a rolled-up day counts at its UTC midnight). A manager sees
 * only the accounts in its own tree; a user key sees nothing.
 */
export async function usageReport(accounts: Pick<AccountRepository, "visible">, usage: UsageRepository, actor: Actor, query: UsageQuery): Promise<UsageRow[]> {
  if (actor.role === "user") throw new PermissionDeniedError("this key may not read usage; it needs the admin or manager role");
  const visible = await accounts.visible(actor);
  const accountIds = [
    ...(visible !== "all" ? [[...visible]] : []),
    ...(query.account_id != null ? [[query.account_id]] : []),
  ].reduce<string[] | undefined>((ids, next) => (ids == null ? next : ids.filter((id) => next.includes(id))), undefined);
  return usage.aggregate(
    {
      accountIds,
      keyIds: query.key_id != null ? [query.key_id] : undefined,
      since: query.since != null ? new Date(query.since).getTime() : undefined,
      until: query.until != null ? new Date(query.until).getTime() : undefined,
    },
    query.group_by,
  );
}

/** The aggregate over a usage relation, grouped and ordered by `dimensions`; both dialects. */
export function usageAggregate(relation: SQL, dimensions: readonly UsageDimension[]): SQL {
  const groups = sql.join(
    dimensions.map((dimension) => sql.raw(names[dimension])),
    sql`, `,
  );
  // SQLite sorts nulls first and Postgres last; the report reads the same on both.
  const order = sql.join(
    dimensions.map((dimension) => sql.raw(`${names[dimension]} nulls first`)),
    sql`, `,
  );
  return sql`
    select ${groups}, sum(requests) as requests, sum(errors) as errors, sum(prompt_tokens) as prompt_tokens,
           sum(completion_tokens) as completion_tokens, sum(cost_micros) as cost_micros
    from (${relation}) as usage
    group by ${groups}
    order by ${order}`;
}
