import { and, eq, inArray, isNotNull, lt, lte, or, type Column } from "drizzle-orm";
import type { AccountPayloads, PurgeCutoffs } from "./payload-repository";

/** The columns the conditions read, as either dialect's tables have them. */
export interface PayloadTables {
  retainedPayloads: { requestId: Column; accountId: Column; kind: Column; expiresAt: Column; basis: Column; createdAt: Column };
  usageEvents: { clientIp: Column; startedAt: Column };
}

/**
 * The rows of a payload repository's reads and of a purge run, written once for both dialects:
 * each repository binds them to its own tables.
 */
export function payloadConditions({ retainedPayloads, usageEvents }: PayloadTables) {
  return {
    /** One request's payloads of the given kinds, within its account. */
    ofRequest: (which: AccountPayloads) =>
      and(eq(retainedPayloads.requestId, which.requestId), eq(retainedPayloads.accountId, which.accountId), inArray(retainedPayloads.kind, [...which.kinds])),
    /** What a purge run with these cutoffs removes, clears and rolls up. */
    purge: (cutoffs: PurgeCutoffs) => ({
      payloads: or(lte(retainedPayloads.expiresAt, cutoffs.at), and(eq(retainedPayloads.basis, "policy"), lte(retainedPayloads.createdAt, cutoffs.policyCreatedBy))),
      clientIps: and(isNotNull(usageEvents.clientIp), lt(usageEvents.startedAt, cutoffs.clientIpsBefore)),
      detail: lt(usageEvents.startedAt, cutoffs.detailBefore),
    }),
  };
}
