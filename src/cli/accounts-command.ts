import { CreateAccountInput, CreditsInput, UpdateAccountInput } from "../accounts/account-input";
import { toAccountView } from "../accounts/account-view";
import { parseInput } from "../validation/parse-input";
import { InvalidRequestError } from "../errors";
import { listFlag, numberFlag, openLocalAdmin, printTable, runAdminCommand, textFlag } from "./local-admin";
import { parseOptions, UsageError } from "./parse-options";

const USAGE = `usage:
  enclave accounts create --name NAME [--parent ID|NAME] [limits] [--json]
  enclave accounts list [--json]
  enclave accounts update ID|NAME [--name NAME] [limits] [--json]
  enclave accounts delete ID|NAME            (revokes its keys; refused while it has sub-accounts)
  enclave accounts credits ID|NAME --add AMOUNT   (prepaid balance, in the [pricing] currency)
  limits: --concurrency N  --budget-period day|month  --budget-tokens N  --budget-cost AMOUNT  --allowed-regions eu-1,eu-2
          (update: 'none' resets a limit or clears the region list)
  every command takes --config PATH; it works on the store directly, no key needed`;

/** `enclave accounts create|list|update|delete|credits`, straight on the store. */
export async function accountsCommand(args: string[]): Promise<number> {
  return runAdminCommand(USAGE, () => {
    const { values, positionals } = parseOptions(
      args,
      {
        config: { type: "string" },
        json: { type: "boolean" },
        name: { type: "string" },
        parent: { type: "string" },
        add: { type: "string" },
        concurrency: { type: "string" },
        "budget-period": { type: "string" },
        "budget-tokens": { type: "string" },
        "budget-cost": { type: "string" },
        "allowed-regions": { type: "string" },
      },
      true,
    );
    const [action, target, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
    const needsTarget = action === "update" || action === "delete" || action === "credits";
    if (needsTarget && target == null) throw new UsageError(`accounts ${action} needs an account id or name`);
    if (!needsTarget && target != null) throw new UsageError(`unexpected argument '${target}'`);

    using local = openLocalAdmin(values.config);
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
        const parent = values.parent != null ? accounts.resolve(actor, values.parent).id : undefined;
        show([toAccountView(accounts.create(actor, parseInput(CreateAccountInput, { name: values.name, ...(parent && { parent_id: parent }), ...limits(false) })))]);
        return 0;
      }
      case "list":
        show(accounts.list(actor).map(toAccountView));
        return 0;
      case "update": {
        const input = parseInput(UpdateAccountInput, { ...(values.name != null && { name: values.name }), ...limits(true) });
        if (Object.keys(input).length === 0) throw new InvalidRequestError("nothing to update: give --name or a limit");
        show([toAccountView(accounts.update(actor, accounts.resolve(actor, target!).id, input))]);
        return 0;
      }
      case "delete": {
        const row = accounts.delete(actor, accounts.resolve(actor, target!).id);
        console.log(`deleted account ${row.id} '${row.name}'; its keys are revoked`);
        return 0;
      }
      case "credits": {
        const amount = numberFlag("add", values.add);
        if (amount == null) throw new UsageError("accounts credits needs --add AMOUNT");
        show([toAccountView(accounts.addCredits(actor, accounts.resolve(actor, target!).id, parseInput(CreditsInput, { amount }).amount))]);
        return 0;
      }
      default:
        throw new UsageError(action == null ? "accounts needs an action" : `unknown action '${action}'`);
    }
  });
}
