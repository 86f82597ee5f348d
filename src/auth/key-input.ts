import { z } from "zod";
import { ROLES } from "../accounts/actor";
import { budgetFields } from "../accounts/limits-input";
import { allowedRegionsField } from "../residency/region-scope";
import { MAX_ID_LENGTH, MAX_LIST_ENTRIES } from "../validation/input-bounds";
import { isIpOrCidr } from "./ip-allow-list";

const keyName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._ -]{0,63}$/, "1-64 letters, digits, spaces, '.', '_' or '-', starting with a letter or digit")
  .describe("unique among the account's live keys");

const keyFields = {
  models: z
    .array(z.string().min(1).max(MAX_ID_LENGTH))
    .min(1)
    .max(MAX_LIST_ENTRIES)
    .nullable()
    .optional()
    .describe("model ids this key may use; null or omitted: every model"),
  allowed_ips: z
    .array(z.string().max(64).refine(isIpOrCidr, "an IP address or CIDR range"))
    .min(1)
    .max(MAX_LIST_ENTRIES)
    .nullable()
    .optional()
    .describe("addresses or CIDR ranges the key may be used from; null: anywhere"),
  allowed_regions: allowedRegionsField,
  expires_at: z.iso.datetime({ offset: true }).nullable().optional().describe("ISO 8601 time after which the key stops working; null: never"),
  rpm: z.number().int().min(0).nullable().optional().describe("requests per minute; 0: unlimited; null: the [limits] default"),
  tpm: z.number().int().min(0).nullable().optional().describe("tokens per minute; 0: unlimited; null: the [limits] default"),
  ...budgetFields,
};

export const CreateKeyInput = z.strictObject({
  name: keyName,
  account_id: z.string().min(1).max(MAX_ID_LENGTH).optional().describe("owning account; default: the caller's own account"),
  role: z.enum(ROLES).default("user").describe("admin: everything; manager: its account tree; user: inference only"),
  ...keyFields,
});
export type CreateKeyInput = z.input<typeof CreateKeyInput>;

export const UpdateKeyInput = z.strictObject({ name: keyName.optional(), ...keyFields });
export type UpdateKeyInput = z.infer<typeof UpdateKeyInput>;
