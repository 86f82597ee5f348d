import { parseInput } from "../validation/parse-input";
import { AuditQuery, listAudit } from "../audit/list-audit";
import { verifyAudit } from "../audit/verify-audit";
import { openLocalPrivacy } from "./local-privacy";
import { printTable, runAdminCommand } from "./local-admin";
import { parseOptions, UsageError } from "./parse-options";

const USAGE = `usage:
  enclave audit list [--since DATE] [--until DATE] [--actor ACTOR] [--action ACTION|PREFIX.] [--target ID] [--after-seq N] [--limit N] [--asc] [--json]
  enclave audit verify [--json]     check the hash chain; exit 1 naming each edited, deleted or reordered entry
  every command takes --config PATH`;

/** `enclave audit list|verify`: the append-only, hash-chained admin audit log. */
export async function auditCommand(args: string[]): Promise<number> {
  return runAdminCommand(USAGE, () => {
    const { values, positionals } = parseOptions(
      args,
      {
        config: { type: "string" },
        json: { type: "boolean" },
        since: { type: "string" },
        until: { type: "string" },
        actor: { type: "string" },
        action: { type: "string" },
        target: { type: "string" },
        "after-seq": { type: "string" },
        limit: { type: "string" },
        asc: { type: "boolean" },
      },
      true,
    );
    const [sub, ...rest] = positionals;
    if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}'`);
    if (sub === "list") {
      using local = openLocalPrivacy(values.config);
      const query = parseInput(
        AuditQuery,
        {
          since: values.since,
          until: values.until,
          actor: values.actor,
          action: values.action,
          target: values.target,
          after_seq: values["after-seq"],
          limit: values.limit ?? "100",
          order: values.asc ? "asc" : "desc",
        },
        "query",
      );
      const rows = listAudit(local.store.db, query);
      if (values.json) console.log(JSON.stringify({ data: rows }, null, 2));
      else printTable(rows.map((row) => ({ ...row, details: JSON.stringify(row.details) })), ["seq", "at", "actor", "action", "target", "details"]);
      return 0;
    }
    if (sub === "verify") {
      using local = openLocalPrivacy(values.config);
      const report = verifyAudit(local.store.db, local.privacy.key);
      if (values.json) console.log(JSON.stringify(report, null, 2));
      else {
        const from = report.checkpoint ? `retention checkpoint at seq ${report.checkpoint.seq} (signature ${report.checkpoint.signature})` : "the start of the log";
        console.log(`${report.entries} entr${report.entries === 1 ? "y" : "ies"} checked from ${from}; head seq ${report.last_seq ?? "-"} hash ${report.head_hash}`);
        if (report.ok) console.log("audit log intact");
        else for (const problem of report.problems) console.log(`  ${problem.kind}: ${problem.message}`);
      }
      return report.ok ? 0 : 1;
    }
    throw new UsageError(sub == null ? "missing subcommand (list or verify)" : `unknown subcommand '${sub}'`);
  });
}
