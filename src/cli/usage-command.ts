import { parseInput } from "../validation/parse-input";
import { UsageQuery, usageReport } from "../metering/usage-report";
import { openLocalAdmin, printTable, runAdminCommand } from "./local-admin";
import { parseOptions, UsageError } from "./parse-options";

const USAGE = `usage: enclave usage [--key ID] [--account ID|NAME] [--since DATE] [--until DATE] [--by key,account,model,day] [--json] [--config PATH]
  metered usage (requests, errors, tokens, cost), aggregated; DATE is ISO 8601 (2025-01-31 or 2025-01-31T12:00:00Z)`;

/** `enclave usage`: metered usage aggregated by key, account, model and/or day. */
export async function usageCommand(args: string[]): Promise<number> {
  return runAdminCommand(USAGE, () => {
    const { values, positionals } = parseOptions(args, {
      config: { type: "string" },
      json: { type: "boolean" },
      key: { type: "string" },
      account: { type: "string" },
      since: { type: "string" },
      until: { type: "string" },
      by: { type: "string" },
    }, true);
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    using local = openLocalAdmin(values.config);
    const accountId = values.account != null ? local.accounts.resolve(local.actor, values.account).id : undefined;
    const query = parseInput(
      UsageQuery,
      { group_by: values.by ?? "day", since: values.since, until: values.until, key_id: values.key, account_id: accountId },
      "query",
    );
    const rows = usageReport(local.store.db, local.actor, query).map(({ cost_micros, ...row }) => ({ ...row, cost: cost_micros / 1e6 }));
    if (values.json) console.log(JSON.stringify({ currency: local.config.pricing.currency, data: rows }, null, 2));
    else {
      const names = { key: "key_id", account: "account_id", model: "model", day: "day" } as const;
      printTable(rows, [...query.group_by.map((dimension) => names[dimension]), "requests", "errors", "prompt_tokens", "completion_tokens", "cost"]);
      console.log(`(cost in ${local.config.pricing.currency})`);
    }
    return 0;
  });
}
