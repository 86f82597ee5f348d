import type { z } from "zod";
import { InvalidRequestError } from "../errors";
import { formatParam } from "./format-param";

/**
 * Validates an admin request's body or query with its zod schema. The first problem becomes a
 * 400 naming the field ("invalid 'rpm': Too small: expected number to be >=0", "unknown field
 * 'bogus'"); the rejected value is not echoed.
 */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown, where: "body" | "query" = "body"): z.output<T> {
  if (where === "body" && (input == null || typeof input !== "object" || Array.isArray(input)))
    throw new InvalidRequestError("request body must be a JSON object (Content-Type: application/json)");
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = formatParam(issue.path);
  if (issue.code === "unrecognized_keys") {
    const field = [path, issue.keys[0]].filter(Boolean).join(".");
    throw new InvalidRequestError(`unknown ${where === "body" ? "field" : "parameter"} '${field}'`, { param: field });
  }
  throw new InvalidRequestError(path ? `invalid '${path}': ${issue.message}` : issue.message, { param: path || null });
}
