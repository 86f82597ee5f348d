import type { z } from "zod";
import { InvalidRequestError } from "../../errors";
import { formatParam } from "../../validation/format-param";
import { isErrorCode, type ErrorCode } from "../../error-codes";

type Issue = z.core.$ZodIssue;
type PathKey = PropertyKey;

/**
 * JSON text -> a schema's output, or an InvalidRequestError that names the parameter. Messages are
 * written here from the issue's kind and the schema's limits; they state the type that was received
 * but never the value (payloads must not reach error messages or logs). The body is read as text
 * whatever the Content-Type, as OpenAI does, so `curl -d` without a header still works.
 */
export function parseBody<S extends z.ZodType>(schema: S, text: string): z.output<S> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new InvalidRequestError("request body is not valid JSON", { code: "invalid_json" });
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new InvalidRequestError("request body must be a JSON object", { code: "invalid_json" });
  }
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const [issue, path] = mostSpecific(result.error.issues[0]!, [], data);
  const param = formatParam(path);
  const value = valueAt(data, path);
  throw new InvalidRequestError(describe(issue, param, value), { param, code: errorCode(issue, value) });
}

/** OpenAI's codes: missing_required_parameter, invalid_type, invalid_value; ours may say unsupported_value. */
function errorCode(issue: Issue, value: unknown): ErrorCode {
  if (value === undefined && (issue.code === "invalid_type" || issue.code === "invalid_union")) return "missing_required_parameter";
  if (issue.code === "invalid_type" || (issue.code === "invalid_union" && issue.errors.length > 0)) return "invalid_type";
  if (issue.code === "custom" && typeof issue.params?.code === "string" && isErrorCode(issue.params.code)) return issue.params.code;
  return "invalid_value";
}

/**
 * A union failure is reported against the branch the client evidently meant: the one whose
 * failures lie below the value (it had the right shape on top). When no branch got that far, the
 * union itself is the culprit.
 */
function mostSpecific(issue: Issue, prefix: PathKey[], data: unknown): [Issue, PathKey[]] {
  const path = [...prefix, ...issue.path];
  if (issue.code !== "invalid_union" || issue.errors.length === 0) return [issue, path];
  const deeper = issue.errors.filter((branch) => !branch.some((i) => i.path.length === 0 && i.code === "invalid_type"));
  if (deeper.length !== 1) return [issue, path];
  return mostSpecific(deeper[0]![0]!, path, data);
}

function valueAt(data: unknown, path: PathKey[]): unknown {
  let value = data;
  for (const key of path) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number" && Number.isInteger(value)) return "integer";
  return typeof value;
}

function describe(issue: Issue, param: string, value: unknown): string {
  const where = param === "" ? "request body" : `'${param}'`;
  switch (issue.code) {
    case "invalid_type":
      if (value === undefined) return `missing required parameter ${where}`;
      return `invalid type for ${where}: expected ${issue.expected === "int" ? "integer" : issue.expected}, got ${typeName(value)}`;
    case "invalid_union":
      // A discriminated union found no branch for the tag: the path already ends at the tag.
      if (issue.errors.length === 0) return `invalid value for ${where}: unsupported value`;
      if (value === undefined) return `missing required parameter ${where}`;
      return `invalid type for ${where}: got ${typeName(value)}`;
    case "invalid_value":
      return `invalid value for ${where}: expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "too_small":
      return issue.origin === "array"
        ? `${where} must have at least ${issue.minimum} item(s)`
        : issue.origin === "string"
          ? `${where} must not be empty`
          : `${where} must be ${issue.inclusive ? ">=" : ">"} ${issue.minimum}`;
    case "too_big":
      return issue.origin === "array"
        ? `${where} may have at most ${issue.maximum} item(s)`
        : issue.origin === "string"
          ? `${where} may have at most ${issue.maximum} characters`
          : `${where} must be ${issue.inclusive ? "<=" : "<"} ${issue.maximum}`;
    case "invalid_format":
      // Messages for formats come from our schemas (e.g. the function-name rule), not from input.
      return `invalid value for ${where}: ${issue.message}`;
    case "custom":
      // Our own refinements: written in src/api/openai/model.ts, never quoting input.
      return `invalid ${where}: ${issue.message}`;
    default:
      return `invalid value for ${where}`;
  }
}
