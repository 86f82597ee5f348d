import { Elysia } from "elysia";
import type { ApiOperations } from "./api-operation";
import { DOCS_CONTENT_SECURITY_POLICY, DOCS_VIEWER_CSS, DOCS_VIEWER_JS, docsViewerHtml } from "./docs-viewer";
import { openApiDocument, type DocumentInfo, type RouteEntry } from "./openapi-document";

export interface DocsRoutesDeps {
  info: DocumentInfo;
  operations: ApiOperations;
  /** The app's routes when asked (all are mounted by the first request). */
  routes: () => RouteEntry[];
}

const hidden = { detail: { hide: true } };
const assetHeaders = (contentType: string) => ({ "content-type": contentType, "content-security-policy": DOCS_CONTENT_SECURITY_POLICY, "x-content-type-options": "nosniff", "cache-control": "no-cache" });

/**
 * `GET /docs`: the viewer page for a browser (Accept: text/html) and the OpenAPI document for
 * anything else, so a client generator can be pointed at /docs as before; `GET /docs/openapi.json`
 * is the document always. No key needed: the document describes the API, it holds no data.
 */
export function createDocsRoutes(deps: DocsRoutesDeps) {
  let cached: { count: number; document: ReturnType<typeof openApiDocument> } | undefined;
  const document = () => {
    const routes = deps.routes();
    if (cached?.count !== routes.length) cached = { count: routes.length, document: openApiDocument(routes, deps.operations, deps.info) };
    return cached.document;
  };
  const page = docsViewerHtml(deps.info.title);
  return new Elysia({ name: "docs" })
    .get("/docs", ({ request }) => (prefersHtml(request) ? new Response(page, { headers: { ...assetHeaders("text/html; charset=utf-8"), "x-frame-options": "DENY" } }) : document()), hidden)
    .get("/docs/openapi.json", () => document(), hidden)
    .get("/docs/viewer.js", () => new Response(DOCS_VIEWER_JS, { headers: assetHeaders("text/javascript; charset=utf-8") }), hidden)
    .get("/docs/viewer.css", () => new Response(DOCS_VIEWER_CSS, { headers: assetHeaders("text/css; charset=utf-8") }), hidden);
}

function prefersHtml(request: Request): boolean {
  const accept = request.headers.get("accept") ?? "";
  return accept.includes("text/html");
}
