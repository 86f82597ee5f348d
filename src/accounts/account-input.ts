import { z } from "zod";
import { allowedRegionsField } from "../residency/region-scope";
import { MAX_ID_LENGTH } from "../validation/input-bounds";
import { budgetFields } from "./limits-input";

export const accountName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
  .describe("unique among live accounts");

export const CreateAccountInput = z.strictObject({
  name: accountName,
  parent_id: z.string().min(1).max(MAX_ID_LENGTH).optional().describe("the account this one sits under; default: the caller's own account (none for the CLI)"),
  ...budgetFields,
  allowed_regions: allowedRegionsField,
});
export type CreateAccountInput = z.infer<typeof CreateAccountInput>;

export const UpdateAccountInput = z.strictObject({ name: accountName.optional(), ...budgetFields, allowed_regions: allowedRegionsField });
export type UpdateAccountInput = z.infer<typeof UpdateAccountInput>;

export const CreditsInput = z.strictObject({
  amount: z.number().min(0).max(1e9).describe("added to the account's prepaid balance, in the pricing currency; 0 turns on a wallet with nothing in it"),
});
export type CreditsInput = z.infer<typeof CreditsInput>;
