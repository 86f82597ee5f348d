import { draftAcceptance, draftPairs } from "../privacy/draft-data";
import { writePrivateFile } from "./export-command";
import { openLocalPrivacy } from "./local-privacy";
import { printTable } from "./local-admin";
import { UsageError } from "./parse-options";
import { defineCommand } from "./command-spec";
import { commonOptions } from "./common-options";
import { runCommand } from "./run-command";

const spec = defineCommand({
  name: "draft-data",
  description: "data for training or judging a draft model",
  actions: {
    export: { synopsis: "export --out FILE.jsonl", description: "prompt/completion pairs kept under a consent that includes draft_training (never ZDR traffic)" },
    report: { synopsis: "report", description: "per-model draft acceptance from metering" },
  },
  options: {
    config: commonOptions.config,
    init: commonOptions.init,
    json: { ...commonOptions.json, actions: ["report"] },
    out: { type: "string", value: "FILE", description: "new file to write (created 0600; never overwritten)", actions: ["export"] },
    model: { type: "string", value: "ID", description: "only this model's pairs", actions: ["export"] },
  },
});

/** `enclave draft-data export|report`: data for training or judging a draft model. */
export async function draftDataCommand(args: string[]): Promise<number> {
  return runCommand(spec, args, async ({ values, positionals }) => {
    const [sub, ...rest] = positionals;
    if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}'`);
    if (sub === "export") {
      if (values.out == null) throw new UsageError("--out FILE is required");
      await using local = await openLocalPrivacy(values);
      const lines: string[] = [];
      for (const pair of await draftPairs(local.privacy.payloadRows, local.privacy.payloads, { now: Date.now(), model: values.model })) lines.push(JSON.stringify(pair));
      writePrivateFile(values.out, lines.length > 0 ? `${lines.join("\n")}\n` : "");
      await local.services.audit.append({ actor: local.actor.id, action: "draft_data.export", target: values.model ?? "*", details: { pairs: lines.length } }, new Date());
      console.error(`wrote ${lines.length} pair(s) to ${values.out}`);
      return 0;
    }
    if (sub === "report") {
      await using local = await openLocalPrivacy(values);
      const rows = await draftAcceptance(local.services.usage);
      if (values.json) console.log(JSON.stringify({ data: rows }, null, 2));
      else printTable(rows as unknown as Record<string, unknown>[], ["model", "requests", "completion_tokens", "draft_tokens_accepted", "acceptance"]);
      return 0;
    }
    throw new UsageError(sub == null ? "missing subcommand (export or report)" : `unknown subcommand '${sub}'`);
  });
}
