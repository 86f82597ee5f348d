import type { Server } from "bun";
import { Elysia } from "elysia";
import { z } from "zod";
import { CreateAccountInput, CreditsInput, UpdateAccountInput } from "../../accounts/account-input";
import type { AccountService } from "../../accounts/account-service";
import { toAccountView } from "../../accounts/account-view";
import { CreateKeyInput, UpdateKeyInput } from "../../auth/key-input";
import type { KeyService } from "../../auth/key-service";
import { toKeyView } from "../../auth/key-view";
import type { UsageRepository } from "../../store/usage-repository";
import { UsageQuery, usageReport } from "../../metering/usage-report";
import { createAdminGate } from "./admin-gate";
import { parseInput } from "../../validation/parse-input";

export interface AdminRoutesDeps {
  usage: UsageRepository;
  keys: KeyService;
  accounts: AccountService;
  currency: string;
  clientIp?: (request: Request, server: Server<unknown> | null | undefined) => string | null;
}

export const KeyListQuery = z.strictObject({
  account_id: z.string().min(1).optional(),
  include_revoked: z.enum(["true", "false"]).optional(),
});

/**
 * `/admin`: accounts, keys and usage, for admin and manager keys (a user key gets 403). Routes
 * only authenticate and hand over to the services, which enforce who may touch what and write
 * the audit log. A new key's secret is in the creation response and nowhere else, ever.
 */
export function createAdminRoutes(deps: AdminRoutesDeps) {
  const { keys, accounts } = deps;

  return new Elysia({ prefix: "/admin", name: "admin" })
    .use(createAdminGate(deps))
    .post(
      "/accounts",
      async ({ actor, body, set }) => {
        const row = await accounts.create(actor, parseInput(CreateAccountInput, body));
        set.status = 201;
        return toAccountView(row);
      },
      { detail: { summary: "Create an account" } },
    )
    .get("/accounts", async ({ actor }) => ({ object: "list", data: (await accounts.list(actor)).map(toAccountView) }), { detail: { summary: "List accounts" } })
    .get("/accounts/:id", async ({ actor, params }) => toAccountView(await accounts.get(actor, params.id)), { detail: { summary: "Get an account" } })
    .patch("/accounts/:id", async ({ actor, params, body }) => toAccountView(await accounts.update(actor, params.id, parseInput(UpdateAccountInput, body))), {
      detail: { summary: "Update an account's name or limits" },
    })
    .delete("/accounts/:id", async ({ actor, params }) => toAccountView(await accounts.delete(actor, params.id)), {
      detail: { summary: "Delete an account (revokes its keys)" },
    })
    .post("/accounts/:id/credits", async ({ actor, params, body }) => toAccountView(await accounts.addCredits(actor, params.id, parseInput(CreditsInput, body).amount)), {
      detail: { summary: "Add prepaid credits (admin only)" },
    })
    .post(
      "/keys",
      async ({ actor, body, set }) => {
        const { key, secret } = await keys.create(actor, parseInput(CreateKeyInput, body));
        set.status = 201;
        set.headers["cache-control"] = "no-store";
        return { ...toKeyView(key), secret };
      },
      { detail: { summary: "Create a key; the secret is in this response only" } },
    )
    .get(
      "/keys",
      async ({ actor, query }) => {
        const filter = parseInput(KeyListQuery, query, "query");
        const rows = await keys.list(actor, { accountId: filter.account_id, includeRevoked: filter.include_revoked === "true" });
        const totals = await deps.usage.totalsByKey(rows.map((row) => row.id));
        const none = { requests: 0, promptTokens: 0, completionTokens: 0, costMicros: 0 };
        return { object: "list", data: rows.map((row) => toKeyView(row, totals.get(row.id) ?? none)) };
      },
      { detail: { summary: "List keys with their usage totals" } },
    )
    .get(
      "/keys/:id",
      async ({ actor, params }) => {
        const row = await keys.get(actor, params.id);
        return toKeyView(row, (await deps.usage.totalsByKey([row.id])).get(row.id) ?? { requests: 0, promptTokens: 0, completionTokens: 0, costMicros: 0 });
      },
      { detail: { summary: "Get a key" } },
    )
    .patch("/keys/:id", async ({ actor, params, body }) => toKeyView(await keys.update(actor, params.id, parseInput(UpdateKeyInput, body))), {
      detail: { summary: "Update a key's name, scope or limits" },
    })
    .delete("/keys/:id", async ({ actor, params }) => toKeyView(await keys.revoke(actor, params.id)), { detail: { summary: "Revoke a key" } })
    .get(
      "/usage",
      async ({ actor, query }) => {
        const rows = await usageReport(accounts, deps.usage, actor, parseInput(UsageQuery, query, "query"));
        return {
          object: "list",
          currency: deps.currency,
          data: rows.map(({ cost_micros, ...row }) => ({ ...row, cost: cost_micros / 1e6 })),
        };
      },
      { detail: { summary: "Metered usage, aggregated (group_by=key,account,model,day; since; until; key_id; account_id)" } },
    );
}
