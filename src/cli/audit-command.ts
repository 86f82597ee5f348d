import { parseInput } from "../validation/parse-input";
import { AuditQuery } from "../audit/list-audit";
import { openLocalPrivacy } from "./local-privacy";
import { printTable } from "./local-admin";
import { UsageError } from "./parse-options";
import { defineCommand } from "./command-spec";
import { commonOptions } from "./common-options";
import { runCommand } from "./run-command";

const spec = defineCommand({
  name: "audit",
  description: "the append-only, hash-chained admin audit log",
  actions: {
    list: { synopsis: "list", description: "entries, newest first" },
    verify: { synopsis: "verify", description: "check the hash chain; exit 1 naming each edited, deleted or reordered entry" },
  },
  options: {
    config: commonOptions.config,
    init: commonOptions.init,
    json: commonOptions.json,
    since: { type: "string", value: "DATE", description: "entries at or after DATE (ISO 8601)", actions: ["list"] },
    until: { type: "string", value: "DATE", description: "entries before DATE", actions: ["list"] },
    actor: { type: "string", value: "ACTOR", description: "entries by ACTOR, e.g. cli:alice or key:ID", actions: ["list"] },
    action: { type: "string", value: "ACTION|PREFIX.", description: "entries with this action, or actions starting with PREFIX.", actions: ["list"] },
    target: { type: "string", value: "ID", description: "entries about ID", actions: ["list"] },
    "after-seq": { type: "string", value: "N", description: "entries after sequence number N", actions: ["list"] },
    limit: { type: "string", value: "N", description: "most entries", default: "100", actions: ["list"] },
    asc: { type: "boolean", description: "oldest first", actions: ["list"] },
  },
});

/** `enclave audit list|verify`: the append-only, hash-chained admin audit log. */
export async function auditCommand(args: string[]): Promise<number> {
  return runCommand(spec, args, async ({ values, positionals }) => {
    const [sub, ...rest] = positionals;
    if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}'`);
    if (sub === "list") {
      await using local = await openLocalPrivacy(values);
      const query = parseInput(
        AuditQuery,
        {
          since: values.since,
          until: values.until,
          actor: values.actor,
          action: values.action,
          target: values.target,
          after_seq: values["after-seq"],
          limit: values.limit,
          order: values.asc ? "asc" : "desc",
        },
        "query",
      );
      const rows = await local.services.audit.list(query);
      if (values.json) console.log(JSON.stringify({ data: rows }, null, 2));
      else printTable(rows.map((row) => ({ ...row, details: JSON.stringify(row.details) })), ["seq", "at", "actor", "action", "target", "details"]);
      return 0;
    }
    if (sub === "verify") {
      await using local = await openLocalPrivacy(values);
      const report = await local.services.audit.verify(local.privacy.key);
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
