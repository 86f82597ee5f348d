import { Elysia } from "elysia";
import { NotFoundError } from "../errors";
import { loadUiFiles } from "./load-ui-files";
import type { UiFile } from "./ui-files";

/**
 * Only this server, for everything: no inline script or style, no frames, no other host to
 * connect to, load from or send a form to. `data:` images cover the empty favicon.
 */
export const UI_CONTENT_SECURITY_POLICY =
  "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const SECURITY_HEADERS = {
  "content-security-policy": UI_CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

export interface UiRoutesDeps {
  /** The console's files; default: embedded in the binary, or bundled in memory from source. */
  files?: () => Promise<UiFile[]>;
}

interface Served {
  file: UiFile;
  etag: string;
}

/**
 * `GET /ui`: the admin console and playground, a static page served without a key. The page is
 * only a client of the public /admin and /v1 APIs, whose calls carry the key the user signs in
 * with. Files are loaded once, on the first request (from source that bundles them: ~50 ms).
 */
export function createUiRoutes(deps: UiRoutesDeps = {}) {
  const load = deps.files ?? loadUiFiles;
  let loading: Promise<Map<string, Served>> | undefined;
  const files = () =>
    (loading ??= load().then(
      (list) => new Map(list.map((file) => [file.name, { file, etag: `"${Bun.hash(file.body).toString(36)}"` }])),
      (error: unknown) => {
        loading = undefined; // a failed bundle is retried by the next request
        throw error;
      },
    ));

  async function serve(name: string, request: Request): Promise<Response> {
    const served = (await files()).get(name);
    if (served == null) throw new NotFoundError(`no console file '/ui/${name}'`);
    const headers = {
      ...SECURITY_HEADERS,
      "content-type": served.file.contentType,
      etag: served.etag,
      // Revalidated on every load, so a new binary's console is picked up at once.
      "cache-control": "no-cache",
    };
    if (request.headers.get("if-none-match") === served.etag) return new Response(null, { status: 304, headers });
    return new Response(served.file.body, { headers });
  }

  return new Elysia({ name: "ui" })
    .get("/ui", ({ request }) => serve("index.html", request), { detail: { hide: true } })
    .get("/ui/", ({ request }) => serve("index.html", request), { detail: { hide: true } })
    .get("/ui/:file", ({ params, request }) => serve(params.file, request), { detail: { hide: true } });
}
