import { EnclaveError } from "../errors";
import { formatParam } from "../validation/format-param";

export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null } & Record<string, unknown>;
}

/** The one wire shape of every error: OpenAI's, plus the error's numeric facts beside the message. */
export function errorResponse(error: EnclaveError, requestId?: string): Response {
  const body: OpenAiErrorBody = {
    error: { message: error.message, type: error.type, param: error.param, code: error.code, ...error.details },
  };
  const headers = new Headers({ "content-type": "application/json" });
  if (error.retryAfterSeconds != null) headers.set("retry-after", String(Math.max(1, Math.ceil(error.retryAfterSeconds))));
  if (requestId != null) headers.set("x-request-id", requestId);
  return new Response(JSON.stringify(body), { status: error.status, headers });
}

/** Elysia reports paths as `/messages/0/content`; OpenAI clients read `messages[0].content`. */
export function toParamPath(path: string): string {
  return formatParam(path.split(/[./]/).filter((part) => part !== "").map((part) => (/^\d+$/.test(part) ? Number(part) : part)));
}
