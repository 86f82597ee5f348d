import { z } from "zod";
import { InvalidRequestError } from "../errors";
import { MAX_LIST_ENTRIES } from "../validation/input-bounds";

/** `allowed_regions` on a key or an account. Omitted: unchanged; null: no narrowing of its own. */
export const allowedRegionsField = z
  .array(z.string().min(1).max(64))
  .min(1)
  .max(MAX_LIST_ENTRIES)
  .nullable()
  .optional()
  .describe("regions its requests may be processed in, within [residency] and the account's own list; null: no narrowing of its own");

/** The regions both lists allow; null when neither narrows. */
export function intersectRegions(a: readonly string[] | null, b: readonly string[] | null): string[] | null {
  if (a == null) return b == null ? null : [...b];
  if (b == null) return [...a];
  return a.filter((region) => b.includes(region));
}

/**
 * 400 `invalid_request_error` on `allowed_regions` when a region of `regions` is outside `within`
 * (null: anything goes), naming the region and the list it broke, e.g. "region 'us-1' is not among
 * this installation's allowed regions ([residency]: eu-1, eu-2)".
 */
export function assertRegionsWithin(regions: readonly string[] | null | undefined, within: readonly string[] | null, whose: string): void {
  if (regions == null || within == null) return;
  const outside = regions.find((region) => !within.includes(region));
  if (outside !== undefined)
    throw new InvalidRequestError(`allowed_regions: region '${outside}' is not among ${whose} (${within.join(", ") || "none"})`, {
      param: "allowed_regions",
      code: "region_not_allowed",
    });
}
