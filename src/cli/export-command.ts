import { openSync, writeSync, closeSync } from "node:fs";
import { openLocalPrivacy, resolveAccountId } from "./local-privacy";
import { UsageError } from "./parse-options";
import { defineCommand } from "./command-spec";
import { commonOptions } from "./common-options";
import { runCommand } from "./run-command";

const spec = defineCommand({
  name: "export",
  description: "everything stored about the account as JSON (keys without secrets, usage, consents, overrides, retained payloads decrypted, audit entries about it)",
  synopsis: "--account ID|NAME",
  options: {
    config: commonOptions.config,
    init: commonOptions.init,
    account: { type: "string", value: "ID|NAME", description: "the account to export (required)" },
    out: { type: "string", value: "FILE", description: "new file to write (created 0600; never overwritten); default stdout" },
  },
});

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
  return runCommand(spec, args, async ({ values }) => {
    if (values.account == null) throw new UsageError("--account is required");
    await using local = await openLocalPrivacy(values);
    const document = await local.privacy.dataSubject.export(local.actor, await resolveAccountId(local, local.actor, values.account));
    const text = `${JSON.stringify(document, null, 2)}\n`;
    if (values.out != null) {
      writePrivateFile(values.out, text);
      console.error(`wrote ${values.out}`);
    } else process.stdout.write(text);
    return 0;
  });
}
