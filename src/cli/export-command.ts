import { openSync, writeSync, closeSync } from "node:fs";
import { openLocalPrivacy, resolveAccountId } from "./local-privacy";
import { runAdminCommand } from "./local-admin";
import { parseOptions, UsageError } from "./parse-options";

const USAGE = `usage: enclave export --account ID|NAME [--out FILE] [--config PATH]
  everything stored about the account as JSON (keys without secrets, usage, consents, overrides,
  retained payloads decrypted, audit entries about it); to stdout, or to FILE (created 0600)`;

/** Writes personal data to a new file only its owner can read; refuses to overwrite. */
export function writePrivateFile(path: string, text: string): void {
  const fd = openSync(path, "wx", 0o600);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

/** `enclave export --account ID`: data portability. */
export async function exportCommand(args: string[]): Promise<number> {
  return runAdminCommand(USAGE, () => {
    const { values, positionals } = parseOptions(args, { config: { type: "string" }, account: { type: "string" }, out: { type: "string" } }, true);
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (values.account == null) throw new UsageError("--account is required");
    using local = openLocalPrivacy(values.config);
    const document = local.privacy.dataSubject.export(local.actor, resolveAccountId(local, local.actor, values.account));
    const text = `${JSON.stringify(document, null, 2)}\n`;
    if (values.out != null) {
      writePrivateFile(values.out, text);
      console.error(`wrote ${values.out}`);
    } else process.stdout.write(text);
    return 0;
  });
}
