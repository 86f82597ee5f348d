import { ConfigError } from "../config/config-error";
import { DataDirError } from "../db/data-dir-error";
import { SharedStoreError } from "../db/shared-store-error";
import { storeErrorOf } from "../db/store-error-of";
import { EnclaveError } from "../errors";

/** One line for the terminal, never a stack: what the operator can act on, else the error's class and first line. */
export function describeFailure(error: unknown): string {
  const known = storeErrorOf(error) ?? error;
  if (known instanceof EnclaveError || known instanceof DataDirError || known instanceof SharedStoreError) return known.message;
  if (known instanceof ConfigError) return `config has ${known.problems.length} problem(s); run 'enclave config check' to list them`;
  const message = known instanceof Error ? (known.message.split("\n")[0] ?? "").slice(0, 300) : String(known).slice(0, 300);
  return `failed (${known instanceof Error ? known.name : typeof known}): ${message}`;
}
