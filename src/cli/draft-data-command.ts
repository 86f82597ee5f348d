import { appendAudit } from "../audit/append-audit";
import { draftAcceptance, draftPairs } from "../privacy/draft-data";
import { writePrivateFile } from "./export-command";
import { openLocalPrivacy } from "./local-privacy";
import { printTable, runAdminCommand } from "./local-admin";
import { parseOptions, UsageError } from "./parse-options";

const USAGE = `usage:
  enclave draft-data export --out FILE.jsonl [--model ID]   prompt/completion pairs kept under a consent
                                                         that includes draft_training (never ZDR traffic)
  enclave draft-data report [--json]                      per-model draft acceptance from metering
  every command takes --config PATH`;

/** `enclave draft-data export|report`: data for training or judging a draft model. */
export async function draftDataCommand(args: string[]): Promise<number> {
  return runAdminCommand(USAGE, () => {
    const { values, positionals } = parseOptions(args, { config: { type: "string" }, out: { type: "string" }, model: { type: "string" }, json: { type: "boolean" } }, true);
    const [sub, ...rest] = positionals;
    if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}'`);
    if (sub === "export") {
      if (values.out == null) throw new UsageError("--out FILE is required");
      using local = openLocalPrivacy(values.config);
      const lines: string[] = [];
      for (const pair of draftPairs(local.store.db, local.privacy.payloads, { now: Date.now(), model: values.model })) lines.push(JSON.stringify(pair));
      writePrivateFile(values.out, lines.length > 0 ? `${lines.join("\n")}\n` : "");
      appendAudit(local.store.db, { actor: local.actor.id, action: "draft_data.export", target: values.model ?? "*", details: { pairs: lines.length } }, new Date());
      console.error(`wrote ${lines.length} pair(s) to ${values.out}`);
      return 0;
    }
    if (sub === "report") {
      using local = openLocalPrivacy(values.config);
      const rows = draftAcceptance(local.store.db);
      if (values.json) console.log(JSON.stringify({ data: rows }, null, 2));
      else printTable(rows as unknown as Record<string, unknown>[], ["model", "requests", "completion_tokens", "draft_tokens_accepted", "acceptance"]);
      return 0;
    }
    throw new UsageError(sub == null ? "missing subcommand (export or report)" : `unknown subcommand '${sub}'`);
  });
}
