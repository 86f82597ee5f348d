import { bearerSecret } from "./bearer-secret";

/**
 * The key a /v1 request presents: `Authorization: Bearer <key>` (OpenAI's SDKs) or, without an
 * Authorization header, `x-api-key: <key>` (Anthropic's SDKs and Claude Code). Null when neither
 * header is there; "" when the one that is there holds no key.
 */
export function requestSecret(headers: Headers): string | null {
  if (headers.has("authorization")) return bearerSecret(headers);
  const apiKey = headers.get("x-api-key");
  if (apiKey == null) return null;
  return /^\S+$/.test(apiKey.trim()) ? apiKey.trim() : "";
}
