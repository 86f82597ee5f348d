import { loadConfig } from "../config/load";
import { backupStore } from "../db/backup-store";
import { BackupError } from "../db/backup-error";
import { defineCommand } from "./command-spec";
import { commonOptions } from "./common-options";
import { UsageError } from "./parse-options";
import { runCommand } from "./run-command";

const spec = defineCommand({
  name: "backup",
  description: "a consistent copy of the store (SQLite VACUUM INTO), safe while enclave serve runs",
  synopsis: "--out FILE",
  options: {
    config: commonOptions.config,
    out: { type: "string", value: "FILE", description: "where to write the copy; must not exist; created 0600" },
  },
  notes: ["It holds key hashes, accounts, metering and the audit log, and under retention the encrypted payloads: the retention key is not in it, keep that apart."],
});

/** `enclave backup --out FILE`: an online copy of the store; reads it only, so a running server is not disturbed. */
export async function backupCommand(args: string[]): Promise<number> {
  return runCommand(spec, args, ({ values }) => {
    if (values.out == null || values.out === "") throw new UsageError("--out FILE is required");
    const { config } = loadConfig({ path: values.config });
    if (config.storage.database_url !== "") throw new UsageError("backup copies the SQLite store; with [storage] database_url set the store is Postgres: back it up with the database's own tools (pg_dump)");
    try {
      const result = backupStore(config.storage.data_dir, values.out);
      console.log(`wrote ${result.path} (${result.bytes} bytes) from ${config.storage.data_dir}`);
      return 0;
    } catch (error) {
      if (!(error instanceof BackupError)) throw error;
      console.error(`enclave: ${error.message}`);
      return 1;
    }
  });
}
