import { CreateAccountInput, CreditsInput, UpdateAccountInput } from "../accounts/account-input";
import { toAccountView } from "../accounts/account-view";
import { parseInput } from "../validation/parse-input";
import { InvalidRequestError } from "../errors";
import { defineCommand } from "./command-spec";
import { commonOptions } from "./common-options";
import { listFlag, numberFlag, openLocalAdmin, printTable, textFlag } from "./local-admin";
import { UsageError } from "./parse-options";
import { runCommand } from "./run-command";

const limits = ["create", "update"] as const;

const spec = defineCommand({
  name: "accounts",
  description: "accounts, their limits and prepaid credits, straight on the store (no key needed)",
  positionals: true,
  actions: {
    create: { synopsis: "create --name NAME", description: "make an account" },
    list: { synopsis: "list", description: "list accounts" },
    update: { synopsis: "update ID|NAME", description: "rename an account or change its limits ('none' resets a limit or clears the region list)" },
    delete: { synopsis: "delete ID|NAME", description: "delete an account and revoke its keys (refused while it has sub-accounts)" },
    credits: { synopsis: "credits ID|NAME --add AMOUNT", description: "add to the prepaid balance, in the [pricing] currency" },
  },
  options: {
    config: commonOptions.config,
    init: commonOptions.init,
    json: commonOptions.json,
    name: { type: "string", value: "NAME", description: "the account's name", actions: limits },
    parent: { type: "string", value: "ID|NAME", description: "parent account", actions: ["create"] },
    add: { type: "string", value: "AMOUNT", description: "credits to add", actions: ["credits"] },
    concurrency: { type: "string", value: "N", description: "requests at once", actions: limits },
    "budget-period": { type: "string", value: "day|month", description: "period of the budget", actions: limits },
    "budget-tokens": { type: "string", value: "N", description: "tokens per budget period", actions: limits },
    "budget-cost": { type: "string", value: "AMOUNT", description: "cost per budget period", actions: limits },
    "allowed-regions": { type: "string", value: "R1,R2", description: "regions its requests may run in, within [residency]", actions: limits },
  },
});

/** `enclave accounts create|list|update|delete|credits`, straight on the store. */
export async function accountsCommand(args: string[]): Promise<number> {
  return runCommand(spec, args, async ({ values, positionals }) => {
    const [action, target, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
    const needsTarget = action === "update" || action === "delete" || action === "credits";
    if (needsTarget && target == null) throw new UsageError(`accounts ${action} needs an account id or name`);
    if (!needsTarget && target != null) throw new UsageError(`unexpected argument '${target}'`);

    await using local = await openLocalAdmin(values);
    const { accounts, actor } = local;
    const limits = (update: boolean) =>
      Object.fromEntries(
        Object.entries({
          concurrency: numberFlag("concurrency", values.concurrency, update),
          budget_period: textFlag(values["budget-period"], update),
          budget_tokens: numberFlag("budget-tokens", values["budget-tokens"], update),
          budget_cost: numberFlag("budget-cost", values["budget-cost"], update),
          allowed_regions: listFlag(values["allowed-regions"], update),
        }).filter(([, value]) => value !== undefined),
      );
    const show = (views: ReturnType<typeof toAccountView>[]) =>
      values.json
        ? console.log(JSON.stringify(views.length === 1 && action !== "list" ? views[0] : views, null, 2))
        : printTable(views, ["id", "name", "parent_id", "concurrency", "budget_period", "budget_tokens", "budget_cost", "credits", "allowed_regions", "deleted_at"]);

    switch (action) {
      case "create": {
        if (values.name == null) throw new UsageError("accounts create needs --name");
        const parent = values.parent != null ? (await accounts.resolve(actor, values.parent)).id : undefined;
        show([toAccountView(await accounts.create(actor, parseInput(CreateAccountInput, { name: values.name, ...(parent && { parent_id: parent }), ...limits(false) })))]);
        return 0;
      }
      case "list":
        show((await accounts.list(actor)).map(toAccountView));
        return 0;
      case "update": {
        const input = parseInput(UpdateAccountInput, { ...(values.name != null && { name: values.name }), ...limits(true) });
        if (Object.keys(input).length === 0) throw new InvalidRequestError("nothing to update: give --name or a limit");
        show([toAccountView(await accounts.update(actor, (await accounts.resolve(actor, target!)).id, input))]);
        return 0;
      }
      case "delete": {
        const row = await accounts.delete(actor, (await accounts.resolve(actor, target!)).id);
        console.log(`deleted account ${row.id} '${row.name}'; its keys are revoked`);
        return 0;
      }
      case "credits": {
        const amount = numberFlag("add", values.add);
        if (amount == null) throw new UsageError("accounts credits needs --add AMOUNT");
        show([toAccountView(await accounts.addCredits(actor, (await accounts.resolve(actor, target!)).id, parseInput(CreditsInput, { amount }).amount))]);
        return 0;
      }
      default:
        throw new UsageError(action == null ? "accounts needs an action" : `unknown action '${action}'`);
    }
  });
}
