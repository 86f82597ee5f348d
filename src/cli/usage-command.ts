import { parseInput } from "../validation/parse-input";
import { UsageQuery, usageReport } from "../metering/usage-report";
import { openLocalAdmin, printTable } from "./local-admin";
import { defineCommand } from "./command-spec";
import { commonOptions } from "./common-options";
import { runCommand } from "./run-command";

const spec = defineCommand({
  name: "usage",
  description: "metered usage (requests, errors, tokens, cost), aggregated",
  options: {
    config: commonOptions.config,
    init: commonOptions.init,
    json: commonOptions.json,
    key: { type: "string", value: "ID", description: "only this key" },
    account: { type: "string", value: "ID|NAME", description: "only this account" },
    since: { type: "string", value: "DATE", description: "from DATE, ISO 8601 (2025-01-31 or 2025-01-31T12:00:00Z)" },
    until: { type: "string", value: "DATE", description: "before DATE" },
    by: { type: "string", value: "key,account,model,day", description: "what to group by", default: "day" },
  },
});

/** `enclave usage`: metered usage aggregated by key, account, model and/or day. */
export async function usageCommand(args: string[]): Promise<number> {
  return runCommand(spec, args, async ({ values }) => {
    using local = openLocalAdmin(values);
    const accountId = values.account != null ? (await local.accounts.resolve(local.actor, values.account)).id : undefined;
    const query = parseInput(
      UsageQuery,
      { group_by: values.by, since: values.since, until: values.until, key_id: values.key, account_id: accountId },
      "query",
    );
    const rows = (await usageReport(local.accounts, local.services.usage, local.actor, query)).map(({ cost_micros, ...row }) => ({ ...row, cost: cost_micros / 1e6 }));
    if (values.json) console.log(JSON.stringify({ currency: local.config.pricing.currency, data: rows }, null, 2));
    else {
      const names = { key: "key_id", account: "account_id", model: "model", day: "day" } as const;
      printTable(rows, [...query.group_by.map((dimension) => names[dimension]), "requests", "errors", "prompt_tokens", "completion_tokens", "cost"]);
      console.log(`(cost in ${local.config.pricing.currency})`);
    }
    return 0;
  });
}
