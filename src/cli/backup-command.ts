import { loadConfig } from "../config/load";
import { backupStore } from "../db/backup-store";
import { BackupError } from "../db/backup-error";
import { runAdminCommand } from "./local-admin";
import { parseOptions, UsageError } from "./parse-options";

const USAGE = `usage: enclave backup --out FILE [--config PATH]
  a consistent copy of the store (SQLite VACUUM INTO), safe while enclave serve runs; FILE must not
  exist and is created 0600. It holds key hashes, accounts, metering and the audit log, and under
  retention the encrypted payloads: the retention key is not in it, keep that apart`;

/** `enclave backup --out FILE`: an online copy of the store; reads it only, so a running server is not disturbed. */
export async function backupCommand(args: string[]): Promise<number> {
  return runAdminCommand(USAGE, () => {
    const { values, positionals } = parseOptions(args, { config: { type: "string" }, out: { type: "string" } }, true);
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (values.out == null || values.out === "") throw new UsageError("--out FILE is required");
    const { config } = loadConfig({ path: values.config });
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
