import { z } from "zod";
import { PAYLOAD_MODES, RETAINING_MODES } from "../config/payload-modes";

export const CONSENT_PURPOSES = ["debugging", "quality", "draft_training"] as const;

/** An admin recording an account's informed consent to payload retention. */
export const RecordConsentInput = z.strictObject({
  granted_by: z.string().trim().min(1).max(200).describe("the person or party who consented"),
  statement: z.string().trim().min(1).max(4000).describe("the scope statement consented to (or a reference to the signed document)"),
  mode: z.enum(RETAINING_MODES).describe("anonymized: payloads carry only an internal request id; full: also the account and key"),
  purposes: z.array(z.enum(CONSENT_PURPOSES)).min(1).describe("what the payloads may be used for; draft_training allows draft-data export"),
  retention_days: z.number().int().min(1).describe("days each payload may be kept (at most [retention] metadata_detail_days)"),
  granted_at: z.iso.datetime({ offset: true }).optional().describe("when consent was given; default now"),
});
export type RecordConsentInput = z.output<typeof RecordConsentInput>;

export const RetentionOverrideInput = z.strictObject({
  payloads: z.enum(PAYLOAD_MODES).describe("payload mode for this account or key; only stricter than what applies without it"),
});
export type RetentionOverrideInput = z.output<typeof RetentionOverrideInput>;
