import type { Config } from "../config/schema";
import type { PayloadMode } from "../config/payload-modes";
import type { ConsentRepository } from "../store/consent-repository";

const rank: Record<PayloadMode, number> = { none: 0, anonymized: 1, full: 2 };

/** The mode that keeps less. */
export function stricter(a: PayloadMode, b: PayloadMode): PayloadMode {
  return rank[a] <= rank[b] ? a : b;
}

/** Who a request is for, as the /v1 gate authenticated it; null outside the gate. */
export interface RequestSubject {
  accountId: string;
  keyId: string;
}

export type PayloadDecision =
  | { mode: "none" }
  | {
      mode: "anonymized" | "full";
      basis: "policy" | "consent";
      purposes: string[];
      /** Days the payload may be kept. */
      days: number;
      consentId: string | null;
    };

const NONE: PayloadDecision = { mode: "none" };

/**
 * Whether and how a request's payload may be kept. Without a recorded consent the global
 * `[retention] payloads` mode applies; a consent replaces it (it may allow more, or less, than
 * the global mode). Account and key overrides then only ever make it stricter. ZDR ("none") is
 * the answer whenever anything says so.
 */
export async function decidePayloadRetention(
  consents: Pick<ConsentRepository, "policy">,
  retention: Config["retention"],
  subject: RequestSubject | null,
): Promise<PayloadDecision> {
  if (subject == null) return retention.payloads === "none" ? NONE : { mode: retention.payloads, basis: "policy", purposes: [], days: retention.payload_days, consentId: null };
  const { consent, overrides } = await consents.policy(subject);
  let mode: PayloadMode = consent?.mode ?? retention.payloads;
  for (const override of overrides) mode = stricter(mode, override);
  if (mode === "none") return NONE;
  return consent != null
    ? { mode, basis: "consent", purposes: consent.purposes, days: consent.retentionDays, consentId: consent.id }
    : { mode, basis: "policy", purposes: [], days: retention.payload_days, consentId: null };
}
