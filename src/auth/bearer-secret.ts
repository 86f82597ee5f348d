/** The key in `Authorization: Bearer <key>`; null when there is no Authorization header, "" when it is not a bearer token. */
export function bearerSecret(headers: Headers): string | null {
  const header = headers.get("authorization");
  if (header == null) return null;
  const match = header.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1] ?? "";
}
