import { openLocalPrivacy } from "./local-privacy";
import { runAdminCommand } from "./local-admin";
import { parseOptions, UsageError } from "./parse-options";

const USAGE = `usage: enclave purge [--dry-run] [--json] [--config PATH]
  run retention now: delete payloads past their window, drop client IPs after security_days, roll
  request-level metering older than metadata_detail_days into daily aggregates, remove audit entries
  older than audit_days behind a checkpoint, then reclaim the space; --dry-run only counts`;

/** `enclave purge [--dry-run]`: the retention purge, on demand. */
export async function purgeCommand(args: string[]): Promise<number> {
  return runAdminCommand(USAGE, () => {
    const { values, positionals } = parseOptions(args, { config: { type: "string" }, "dry-run": { type: "boolean" }, json: { type: "boolean" } }, true);
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    using local = openLocalPrivacy(values.config);
    const dryRun = values["dry-run"] === true;
    const report = local.privacy.purge.run({ dryRun, actor: dryRun ? undefined : local.actor.id });
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
    else if (!dryRun) console.log("  nothing deleted; no space to reclaim");
    return 0;
  });
}
