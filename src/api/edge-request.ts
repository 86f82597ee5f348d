import { EnclaveError, InvalidRequestError, PayloadTooLargeError } from "../errors";
import { clientIp, rememberPeer } from "./gate/client-ip";

/** The methods any route of the app answers; anything else (CONNECT, TRACE, extensions) is refused before routing. */
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** Elysia finds the path at the first "/" from this offset of `request.url` (past "https://"). */
const ELYSIA_PATH_OFFSET = 11;

/**
 * The request as the router may see it, or the error it gets instead. Runs before Elysia:
 * - only the methods the app serves, and only an http(s) URL with an origin-form path (an
 *   authority-form CONNECT target or a relative one is a 400, never a parse failure later);
 * - no dot-segment or separator hidden in percent-encoding (`%2e%2e`, `%2f..`), no control byte;
 * - the URL rebuilt from its parsed path when Elysia's fixed-offset read would see another one
 *   (a short Host, `Host: x`, shifts that offset into the path: `/v1/admin/keys` read as `/admin/keys`);
 * - the body read here up to the limit, chunked or not, so an over-limit one is a 413 in the
 *   API's error shape (Bun's own limit answers with an empty body).
 * A rebuilt Request keeps the client's abort signal and the peer address the server noted.
 */
export async function edgeRequest(request: Request, bodyLimit: number): Promise<Request | EnclaveError> {
  if (!METHODS.has(request.method)) return methodNotAllowed();
  // HTTP/1.0 without Host gives a bare path.
  const url = URL.parse(request.url.startsWith("/") ? `http://localhost${request.url}` : request.url);
  if (url == null || (url.protocol !== "http:" && url.protocol !== "https:"))
    return new InvalidRequestError("the request target must be an absolute path such as /v1/models", { code: "invalid_request_target" });
  const pathProblem = checkPath(url.pathname);
  if (pathProblem != null) return new InvalidRequestError(pathProblem, { code: "invalid_path" });

  const target = url.pathname + url.search;
  const start = request.url.indexOf("/", ELYSIA_PATH_OFFSET);
  const routable = start >= 0 && request.url.slice(start) === target;
  let body: Uint8Array<ArrayBuffer> | null = null;
  if (request.body != null) {
    const read = await readLimited(request, bodyLimit);
    if (read instanceof EnclaveError) return read;
    body = read;
  }
  if (routable && body == null) return request;

  const headers = new Headers(request.headers);
  headers.delete("transfer-encoding");
  if (body != null) headers.set("content-length", String(body.byteLength));
  const rebuilt = new Request(routable ? request.url : `${url.protocol}//localhost${target}`, {
    method: request.method,
    headers,
    body: body != null && request.method !== "GET" && request.method !== "HEAD" ? body : null,
    signal: request.signal,
  });
  const address = clientIp(request);
  if (address != null) rememberPeer(rebuilt, { requestIP: () => ({ address, family: address.includes(":") ? "IPv6" : "IPv4", port: 0 }) });
  return rebuilt;
}

function methodNotAllowed(): EnclaveError {
  return new EnclaveError({ message: "method not allowed", status: 405, type: "invalid_request_error", code: "method_not_allowed" });
}

/** A reason to refuse the path, or null. Each segment is judged after percent-decoding. */
function checkPath(pathname: string): string | null {
  for (const segment of pathname.split("/")) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return "the path has a malformed percent-encoding";
    }
    // The URL parser already resolved literal dot-segments; what is left here was hidden in %-escapes.
    if (decoded.split(/[/\\]/).some((part) => part === "." || part === "..")) return "the path must not contain dot-segments";
    if (/[\u0000-\u001f\u007f]/.test(decoded)) return "the path must not contain control characters";
  }
  return null;
}

/** The body, or a 413 once more than `limit` bytes arrive (declared or counted). */
async function readLimited(request: Request, limit: number): Promise<Uint8Array<ArrayBuffer> | EnclaveError> {
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (declared > limit) {
    await request.body?.cancel().catch(() => {});
    return new PayloadTooLargeError(limit, declared);
  }
  const reader = request.body!.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let step: Awaited<ReturnType<typeof reader.read>>;
    try {
      step = await reader.read();
    } catch {
      // The client broke off (or sent a malformed chunk): nobody may be left to answer.
      return new InvalidRequestError("the request body could not be read", { code: "invalid_body" });
    }
    const { done, value } = step;
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return new PayloadTooLargeError(limit, size);
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}
