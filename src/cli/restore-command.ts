import { loadConfig } from "../config/load";
import { BackupError } from "../db/backup-error";
import { restoreStore } from "../db/restore-store";
import { loadRetentionKey, RetentionKeyError } from "../privacy/retention-key";
import { defineCommand } from "./command-spec";
import { commonOptions } from "./common-options";
import { openLocalAdmin } from "./local-admin";
import { UsageError } from "./parse-options";
import { runCommand } from "./run-command";

const spec = defineCommand({
  name: "restore",
  description: "replace the store in data_dir with a backup made by `enclave backup`; stop enclave serve first (restore refuses while it holds the data dir)",
  synopsis: "--from FILE",
  options: {
    config: commonOptions.config,
    from: { type: "string", value: "FILE", description: "the backup: an Enclave store this version can run (migrations only go forward) whose audit chain verifies" },
  },
  notes: ["The store it replaces is kept beside it as enclave.sqlite.before-restore-<time>."],
});

/** `enclave restore --from FILE`: the inverse of backup, for a stopped server. */
export async function restoreCommand(args: string[]): Promise<number> {
  return runCommand(spec, args, async ({ values }) => {
    if (values.from == null || values.from === "") throw new UsageError("--from FILE is required");
    const { config } = loadConfig({ path: values.config });
    if (config.storage.database_url !== "") throw new UsageError("restore replaces the SQLite store; with [storage] database_url set the store is Postgres: restore it with the database's own tools (pg_restore)");
    let result;
    try {
      result = restoreStore(config.storage.data_dir, values.from, loadRetentionKey(config.retention));
    } catch (error) {
      if (!(error instanceof BackupError || error instanceof RetentionKeyError)) throw error;
      console.error(`enclave: ${error.message}; the store was not changed`);
      return 1;
    }
    // The restored chain records its own restore, so the log says when it was rewound.
    await using local = await openLocalAdmin({ config: values.config });
    await local.services.audit.append(
      { actor: local.actor.id, action: "store.restore", target: result.instance_id ?? "store", details: { restored_head_seq: result.audit.last_seq, restored_head_hash: result.audit.head_hash } },
      new Date(),
    );
    const { applied, known } = result.migrations;
    const migrated = applied < known ? `; migrated from ${applied} to ${known} migrations` : "";
    console.log(`restored ${config.storage.data_dir} from ${values.from}: ${result.audit.entries} audit entr${result.audit.entries === 1 ? "y" : "ies"} verified${migrated}`);
    if (result.previous != null) console.log(`the store it replaced is at ${result.previous}`);
    return 0;
  });
}
