import type { CreateKeyInput, UpdateKeyInput } from "../auth/key-input";
import { CreateKeyInput as CreateKeySchema, UpdateKeyInput as UpdateKeySchema } from "../auth/key-input";
import { toKeyView } from "../auth/key-view";
import { InvalidRequestError } from "../errors";
import { parseInput } from "../validation/parse-input";
import { defineCommand } from "./command-spec";
import { commonOptions } from "./common-options";
import { listFlag, numberFlag, openLocalAdmin, printTable, textFlag } from "./local-admin";
import { UsageError } from "./parse-options";
import { runCommand } from "./run-command";

const limitOptions = {
  models: { type: "string", value: "a,b", description: "models the key may use (update: 'none' clears)", actions: ["create", "update"] },
  "allowed-ips": { type: "string", value: "CIDR,...", description: "client addresses the key works from, e.g. 10.0.0.0/8,::1", actions: ["create", "update"] },
  "allowed-regions": { type: "string", value: "R1,R2", description: "regions the key's requests may run in, within [residency]", actions: ["create", "update"] },
  "expires-at": { type: "string", value: "ISO", description: "expiry time (ISO 8601)", actions: ["create", "update"] },
  "expires-in-days": { type: "string", value: "N", description: "expiry N days from now", actions: ["create", "update"] },
  concurrency: { type: "string", value: "N", description: "requests at once", actions: ["create", "update"] },
  rpm: { type: "string", value: "N", description: "requests per minute", actions: ["create", "update"] },
  tpm: { type: "string", value: "N", description: "tokens per minute", actions: ["create", "update"] },
  "budget-period": { type: "string", value: "day|month", description: "period of the budget", actions: ["create", "update"] },
  "budget-tokens": { type: "string", value: "N", description: "tokens per budget period", actions: ["create", "update"] },
  "budget-cost": { type: "string", value: "AMOUNT", description: "cost per budget period, in the [pricing] currency", actions: ["create", "update"] },
} as const;

const spec = defineCommand({
  name: "keys",
  description: "API keys, straight on the store (no key needed: this is how the first admin key is made)",
  positionals: true,
  actions: {
    create: { synopsis: "create --name NAME", description: "make a key; its secret is printed once and never stored" },
    list: { synopsis: "list", description: "list keys with their usage" },
    get: { synopsis: "get ID", description: "one key as JSON" },
    update: { synopsis: "update ID", description: "rename a key or change its limits ('none' resets a limit to the [limits] default or clears a list)" },
    revoke: { synopsis: "revoke ID", description: "revoke a key" },
  },
  options: {
    config: commonOptions.config,
    init: commonOptions.init,
    json: commonOptions.json,
    name: { type: "string", value: "NAME", description: "the key's name", actions: ["create", "update"] },
    role: { type: "string", value: "admin|manager|user", description: "what the key may do (default user)", actions: ["create"] },
    account: { type: "string", value: "ID|NAME", description: "the key's account (create: default account if absent; list: only its keys)", actions: ["create", "list"] },
    all: { type: "boolean", description: "include revoked keys", actions: ["list"] },
    ...limitOptions,
  },
});

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
  return runCommand(spec, args, async ({ values, positionals }) => {
    const [action, id, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
    const needsId = action === "get" || action === "update" || action === "revoke";
    if (needsId && id == null) throw new UsageError(`keys ${action} needs a key id`);
    if (!needsId && id != null) throw new UsageError(`unexpected argument '${id}'`);

    await using local = await openLocalAdmin(values);
    const { keys, accounts, actor } = local;
    const show = (view: ReturnType<typeof toKeyView>) => (values.json ? console.log(JSON.stringify(view, null, 2)) : printTable([view], ["id", "name", "role", "account_id", "prefix", "expires_at", "revoked_at"]));

    switch (action) {
      case "create": {
        if (values.name == null) throw new UsageError("keys create needs --name");
        const account = values.account != null ? await accounts.resolve(actor, values.account) : await accounts.ensureDefault(actor);
        const input: CreateKeyInput = parseInput(CreateKeySchema, { name: values.name, account_id: account.id, ...(values.role != null && { role: values.role }), ...limitFields(values, false) });
        const { key, secret } = await keys.create(actor, input);
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
        const accountId = values.account != null ? (await accounts.resolve(actor, values.account)).id : undefined;
        const rows = await keys.list(actor, { accountId, includeRevoked: values.all === true });
        const totals = await local.services.usage.totalsByKey(rows.map((row) => row.id));
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
        const row = await keys.get(actor, id!);
        const view = toKeyView(row, (await local.services.usage.totalsByKey([row.id])).get(row.id) ?? { requests: 0, promptTokens: 0, completionTokens: 0, costMicros: 0 });
        console.log(JSON.stringify(view, null, 2));
        return 0;
      }
      case "update": {
        const input = parseInput(UpdateKeySchema, { ...(values.name != null && { name: values.name }), ...limitFields(values, true) });
        if (Object.keys(input).length === 0) throw new InvalidRequestError("nothing to update: give --name or a limit");
        show(toKeyView(await keys.update(actor, id!, input)));
        return 0;
      }
      case "revoke": {
        const row = await keys.revoke(actor, id!);
        console.log(`revoked key ${row.id} '${row.name}' at ${row.revokedAt?.toISOString()}`);
        return 0;
      }
      default:
        throw new UsageError(action == null ? "keys needs an action" : `unknown action '${action}'`);
    }
  });
}
