import { openLocalPrivacy, resolveAccountId } from "./local-privacy";
import { UsageError } from "./parse-options";
import { defineCommand } from "./command-spec";
import { commonOptions } from "./common-options";
import { runCommand } from "./run-command";

const spec = defineCommand({
  name: "erase",
  description: "erase the account's personal data: revoke its keys, delete its retained payloads, fold its request-level metering into daily billing aggregates, revoke its consent, mark it deleted; audited; running it again changes nothing",
  synopsis: "--account ID|NAME",
  options: {
    config: commonOptions.config,
    init: commonOptions.init,
    json: commonOptions.json,
    account: { type: "string", value: "ID|NAME", description: "the account to erase (required)" },
  },
});

/** `enclave erase --account ID`: the right to erasure. */
export async function eraseCommand(args: string[]): Promise<number> {
  return runCommand(spec, args, async ({ values }) => {
    if (values.account == null) throw new UsageError("--account is required");
    await using local = await openLocalPrivacy(values);
    const report = await local.privacy.dataSubject.erase(local.actor, await resolveAccountId(local, local.actor, values.account));
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
