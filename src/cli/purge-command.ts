import { openLocalPrivacy } from "./local-privacy";
import { defineCommand } from "./command-spec";
import { commonOptions } from "./common-options";
import { runCommand } from "./run-command";

const spec = defineCommand({
  name: "purge",
  description: "run retention now: delete payloads past their window, drop client IPs after security_days, roll request-level metering older than metadata_detail_days into daily aggregates, remove audit entries older than audit_days behind a checkpoint, then reclaim the space",
  options: {
    config: commonOptions.config,
    init: commonOptions.init,
    json: commonOptions.json,
    "dry-run": { type: "boolean", description: "only count what would go" },
  },
});

/** `enclave purge [--dry-run]`: the retention purge, on demand. */
export async function purgeCommand(args: string[]): Promise<number> {
  return runCommand(spec, args, async ({ values }) => {
    await using local = await openLocalPrivacy(values);
    const dryRun = values["dry-run"] === true;
    const report = await local.privacy.purge.run({ dryRun, actor: dryRun ? undefined : local.actor.id });
    if (values.json) {
      console.log(JSON.stringify(report, null, 2));
      return 0;
    }
    console.log(`purge (${dryRun ? "dry run" : "done"}) at ${report.at}`);
    console.log(`  payloads deleted:            ${report.payloads_deleted}`);
    console.log(`  metering rows rolled up:     ${report.usage_rows_rolled_up}`);
    console.log(`  client IPs cleared:          ${report.client_ips_cleared}`);
    console.log(`  audit entries removed:       ${report.audit_entries_removed}${report.audit_checkpoint_seq != null ? ` (checkpoint at seq ${report.audit_checkpoint_seq})` : ""}`);
    if (report.space != null) console.log(`  space: ${report.space.vacuum} vacuum, WAL ${report.space.wal}, ${report.space.free_pages} free page(s) left`);
    // A Postgres store gives no space report: autovacuum reclaims pages there.
    else if (!dryRun && report.payloads_deleted + report.usage_rows_rolled_up + report.client_ips_cleared + report.audit_entries_removed === 0)
      console.log("  nothing deleted; no space to reclaim");
    return 0;
  });
}
