import type { Actor } from "../accounts/actor";
import { EnclaveError, NotFoundError } from "../errors";
import { RetentionKeyError } from "../privacy/retention-key";
import { openLocalAdmin, type LocalAdmin, type LocalAdminOptions } from "./local-admin";

/** The privacy services over the local store, as the local admin (see openLocalAdmin); a retention key that cannot be read is one line. */
export async function openLocalPrivacy(options: LocalAdminOptions) {
  const local = await openLocalAdmin(options);
  try {
    return { ...local, privacy: local.services.privacy };
  } catch (error) {
    await local[Symbol.asyncDispose]();
    if (error instanceof RetentionKeyError) throw new EnclaveError({ message: error.message, status: 500, type: "api_error", code: "retention_key_invalid" });
    throw error;
  }
}

/** An account by id or live name; an id also finds a deleted (e.g. erased) account. */
export async function resolveAccountId(local: LocalAdmin, actor: Actor, idOrName: string): Promise<string> {
  try {
    return (await local.accounts.resolve(actor, idOrName)).id;
  } catch (error) {
    if (error instanceof NotFoundError) return idOrName;
    throw error;
  }
}
