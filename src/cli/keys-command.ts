import type { CreateKeyInput, UpdateKeyInput } from "../auth/key-input";
import { CreateKeyInput as CreateKeySchema, UpdateKeyInput as UpdateKeySchema } from "../auth/key-input";
import { toKeyView } from "../auth/key-view";
import { InvalidRequestError } from "../errors";
import { parseInput } from "../validation/parse-input";
import { listFlag, numberFlag, openLocalAdmin, printTable, runAdminCommand, textFlag } from "./local-admin";
import { parseOptions, UsageError } from "./parse-options";

const USAGE = `usage:
  enclave keys create --name NAME [--role admin|manager|user] [--account ID|NAME] [limits] [--json]
  enclave keys list [--account ID|NAME] [--all] [--json]
  enclave keys get ID [--json]
  enclave keys update ID [--name NAME] [limits] [--json]
  enclave keys revoke ID
  limits: --models a,b  --allowed-ips 10.0.0.0/8,::1  --allowed-regions eu-1,eu-2  --expires-at ISO | --expires-in-days N
          --concurrency N  --rpm N  --tpm N  --budget-period day|month  --budget-tokens N  --budget-cost AMOUNT
          (update: 'none' resets a limit to the [limits] default or clears a list)
  every command takes --config PATH; it works on the store directly, no key needed`;

const limitOptions = {
  models: { type: "string" },
  "allowed-ips": { type: "string" },
  "allowed-regions": { type: "string" },
  "expires-at": { type: "string" },
  "expires-in-days": { type: "string" },
  concurrency: { type: "string" },
  rpm: { type: "string" },
  tpm: { type: "string" },
  "budget-period": { type: "string" },
  "budget-tokens": { type: "string" },
  "budget-cost": { type: "string" },
} as const;

type LimitValues = Partial<Record<keyof typeof limitOptions, string>>;

function limitFields(values: LimitValues, update: boolean): Omit<UpdateKeyInput, "name"> {
  const days = numberFlag("expires-in-days", values["expires-in-days"]);
  if (days != null && values["expires-at"] != null) throw new UsageError("give --expires-at or --expires-in-days, not both");
  const expiresAt = days != null ? new Date(Date.now() + days * 86_400_000).toISOString() : textFlag(values["expires-at"], update);
  const fields = {
    models: listFlag(values.models, update),
    allowed_ips: listFlag(values["allowed-ips"], update),
    allowed_regions: listFlag(values["allowed-regions"], update),
    expires_at: expiresAt,
    concurrency: numberFlag("concurrency", values.concurrency, update),
    rpm: numberFlag("rpm", values.rpm, update),
    tpm: numberFlag("tpm", values.tpm, update),
    budget_period: textFlag(values["budget-period"], update) as UpdateKeyInput["budget_period"],
    budget_tokens: numberFlag("budget-tokens", values["budget-tokens"], update),
    budget_cost: numberFlag("budget-cost", values["budget-cost"], update),
  };
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

/** `enclave keys create|list|get|update|revoke`: API keys, straight on the store (the way to make the first admin key). */
export async function keysCommand(args: string[]): Promise<number> {
  return runAdminCommand(USAGE, () => {
    const { values, positionals } = parseOptions(
      args,
      { config: { type: "string" }, json: { type: "boolean" }, name: { type: "string" }, role: { type: "string" }, account: { type: "string" }, all: { type: "boolean" }, ...limitOptions },
      true,
    );
    const [action, id, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
    const needsId = action === "get" || action === "update" || action === "revoke";
    if (needsId && id == null) throw new UsageError(`keys ${action} needs a key id`);
    if (!needsId && id != null) throw new UsageError(`unexpected argument '${id}'`);

    using local = openLocalAdmin(values.config);
    const { keys, accounts, actor } = local;
    const show = (view: ReturnType<typeof toKeyView>) => (values.json ? console.log(JSON.stringify(view, null, 2)) : printTable([view], ["id", "name", "role", "account_id", "prefix", "expires_at", "revoked_at"]));

    switch (action) {
      case "create": {
        if (values.name == null) throw new UsageError("keys create needs --name");
        const account = values.account != null ? accounts.resolve(actor, values.account) : accounts.ensureDefault(actor);
        const input: CreateKeyInput = parseInput(CreateKeySchema, { name: values.name, account_id: account.id, ...(values.role != null && { role: values.role }), ...limitFields(values, false) });
        const { key, secret } = keys.create(actor, input);
        if (values.json) console.log(JSON.stringify({ ...toKeyView(key), secret }, null, 2));
        else {
          console.log(`created ${key.role} key ${key.id} '${key.name}' in account '${account.name}' (${account.id})`);
          console.log("");
          console.log(`  ${secret}`);
          console.log("");
          console.log("This secret is shown once and is not stored; keep it now. Send it as 'Authorization: Bearer <key>'.");
        }
        return 0;
      }
      case "list": {
        const accountId = values.account != null ? accounts.resolve(actor, values.account).id : undefined;
        const rows = keys.list(actor, { accountId, includeRevoked: values.all === true });
        const totals = keys.usageTotals(rows.map((row) => row.id));
        const views = rows.map((row) => toKeyView(row, totals.get(row.id) ?? { requests: 0, promptTokens: 0, completionTokens: 0, costMicros: 0 }));
        if (values.json) console.log(JSON.stringify(views, null, 2));
        else
          printTable(
            views.map((view) => ({ ...view, requests: view.usage?.requests, tokens: (view.usage?.prompt_tokens ?? 0) + (view.usage?.completion_tokens ?? 0), cost: view.usage?.cost })),
            ["id", "name", "role", "account_id", "prefix", "requests", "tokens", "cost", "last_used_at", "expires_at", "revoked_at"],
          );
        return 0;
      }
      case "get": {
        const row = keys.get(actor, id!);
        const view = toKeyView(row, keys.usageTotals([row.id]).get(row.id) ?? { requests: 0, promptTokens: 0, completionTokens: 0, costMicros: 0 });
        console.log(JSON.stringify(view, null, 2));
        return 0;
      }
      case "update": {
        const input = parseInput(UpdateKeySchema, { ...(values.name != null && { name: values.name }), ...limitFields(values, true) });
        if (Object.keys(input).length === 0) throw new InvalidRequestError("nothing to update: give --name or a limit");
        show(toKeyView(keys.update(actor, id!, input)));
        return 0;
      }
      case "revoke": {
        const row = keys.revoke(actor, id!);
        console.log(`revoked key ${row.id} '${row.name}' at ${row.revokedAt?.toISOString()}`);
        return 0;
      }
      default:
        throw new UsageError(action == null ? "keys needs an action" : `unknown action '${action}'`);
    }
  });
}
