import { openLocalPrivacy, resolveAccountId } from "./local-privacy";
import { runAdminCommand } from "./local-admin";
import { parseOptions, UsageError } from "./parse-options";

const USAGE = `usage: enclave erase --account ID|NAME [--json] [--config PATH]
  erase the account's personal data: revoke its keys, delete its retained payloads, fold its
  request-level metering into daily billing aggregates, revoke its consent, mark it deleted;
  recorded in the audit log; running it again changes nothing`;

/** `enclave erase --account ID`: the right to erasure. */
export async function eraseCommand(args: string[]): Promise<number> {
  return runAdminCommand(USAGE, () => {
    const { values, positionals } = parseOptions(args, { config: { type: "string" }, account: { type: "string" }, json: { type: "boolean" } }, true);
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (values.account == null) throw new UsageError("--account is required");
    using local = openLocalPrivacy(values.config);
    const report = local.privacy.dataSubject.erase(local.actor, resolveAccountId(local, local.actor, values.account));
    if (values.json) console.log(JSON.stringify(report, null, 2));
    else if (report.already_erased) console.log(`account ${report.account_id} was already erased; nothing changed (recorded in the audit log)`);
    else
      console.log(
        `erased account ${report.account_id}: ${report.keys_revoked} key(s) revoked, ${report.payloads_deleted} payload(s) deleted, ` +
          `${report.usage_rows_rolled_up} metering row(s) folded into daily aggregates, ${report.consents_revoked} consent(s) revoked`,
      );
    return 0;
  });
}
