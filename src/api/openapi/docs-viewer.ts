/**
 * The /docs page: a small viewer of the OpenAPI document, served from the binary with nothing
 * from a CDN (the viewers @elysiajs/openapi offers load Scalar or Swagger UI from jsDelivr or
 * unpkg). The script builds the page with textContent only, so nothing in the document can
 * inject markup; the page's CSP allows scripts and styles from this server alone.
 */
export const DOCS_CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export function docsViewerHtml(title: string): string {
  const safe = title.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${safe} API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/docs/viewer.css">
<script src="/docs/viewer.js" defer></script>
</head>
<body>
<header><h1>${safe} API</h1><p>OpenAPI document: <a href="/docs/openapi.json">/docs/openapi.json</a></p></header>
<main id="operations"><p>Loading…</p></main>
</body>
</html>
`;
}

export const DOCS_VIEWER_CSS = `:root { color-scheme: light dark; --fg: #1d2024; --muted: #5b6470; --bg: #fff; --panel: #f4f5f7; --line: #d9dde3; }
@media (prefers-color-scheme: dark) { :root { --fg: #e7e9ec; --muted: #a0a8b3; --bg: #16181b; --panel: #202328; --line: #343a42; } }
body { margin: 0 auto; max-width: 70rem; padding: 1rem 1.5rem 4rem; font: 15px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
a { color: inherit; }
h2 { margin-top: 2rem; border-bottom: 1px solid var(--line); }
details { border: 1px solid var(--line); border-radius: 6px; margin: .4rem 0; background: var(--panel); }
summary { cursor: pointer; padding: .45rem .7rem; display: flex; gap: .8rem; align-items: baseline; }
.method { font: 600 12px ui-monospace, monospace; min-width: 4.2rem; text-transform: uppercase; }
.get { color: #1a7f37; } .post { color: #0969da; } .patch, .put { color: #9a6700; } .delete { color: #cf222e; }
.path { font-family: ui-monospace, monospace; }
.summary { color: var(--muted); }
.body { padding: 0 .9rem .8rem; }
h4 { margin: .8rem 0 .3rem; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
td, th { text-align: left; vertical-align: top; padding: .2rem .5rem; border-top: 1px solid var(--line); }
td:first-child { font-family: ui-monospace, monospace; white-space: nowrap; }
pre { overflow: auto; max-height: 24rem; padding: .6rem; background: var(--bg); border: 1px solid var(--line); font-size: 12px; }
`;

export const DOCS_VIEWER_JS = `"use strict";
(function () {
  var doc;
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = String(text);
    return node;
  }
  function resolve(schema) {
    var seen = 0;
    while (schema && schema.$ref && seen++ < 16) {
      var name = schema.$ref.split("/").pop();
      schema = (doc.components && doc.components.schemas && doc.components.schemas[name]) || {};
    }
    return schema || {};
  }
  function typeOf(schema) {
    schema = resolve(schema);
    if (schema.enum) return schema.enum.map(function (v) { return JSON.stringify(v); }).join(" | ");
    if (schema.const !== undefined) return JSON.stringify(schema.const);
    var union = schema.anyOf || schema.oneOf;
    if (union) return union.map(typeOf).join(" | ");
    if (schema.type === "array") return typeOf(schema.items || {}) + "[]";
    return schema.type || (schema.properties ? "object" : "any");
  }
  function rows(table, schema, prefix, depth) {
    schema = resolve(schema);
    var union = schema.anyOf || schema.oneOf;
    if (union) union.forEach(function (part) { rows(table, part, prefix, depth); });
    if (schema.type === "array" && schema.items) rows(table, schema.items, prefix + "[]", depth);
    var required = schema.required || [];
    Object.keys(schema.properties || {}).forEach(function (name) {
      var property = resolve(schema.properties[name]);
      var tr = el("tr");
      tr.appendChild(el("td", null, prefix + name + (required.indexOf(name) >= 0 ? "" : "?")));
      tr.appendChild(el("td", null, typeOf(property)));
      tr.appendChild(el("td", null, property.description || ""));
      table.appendChild(tr);
      if (depth < 3) rows(table, property, prefix + name + ".", depth + 1);
    });
  }
  function schemaBlock(title, schema) {
    var box = el("div");
    box.appendChild(el("h4", null, title));
    var table = el("table");
    rows(table, schema, "", 0);
    if (table.childNodes.length > 0) box.appendChild(table);
    var raw = el("details");
    raw.appendChild(el("summary", null, "JSON Schema"));
    raw.appendChild(el("pre", null, JSON.stringify(schema, null, 2)));
    box.appendChild(raw);
    return box;
  }
  function operation(method, path, op) {
    var box = el("details");
    var head = el("summary");
    head.appendChild(el("span", "method " + method, method));
    head.appendChild(el("span", "path", path));
    head.appendChild(el("span", "summary", op.summary || ""));
    box.appendChild(head);
    var body = el("div", "body");
    var params = op.parameters || [];
    if (params.length > 0) {
      body.appendChild(el("h4", null, "Parameters"));
      var table = el("table");
      params.forEach(function (p) {
        var tr = el("tr");
        tr.appendChild(el("td", null, p.name + (p.required ? "" : "?")));
        tr.appendChild(el("td", null, p.in + ", " + typeOf(p.schema || {})));
        tr.appendChild(el("td", null, p.description || ""));
        table.appendChild(tr);
      });
      body.appendChild(table);
    }
    var request = op.requestBody && op.requestBody.content && op.requestBody.content["application/json"];
    if (request) body.appendChild(schemaBlock("Request body", request.schema));
    Object.keys(op.responses || {}).forEach(function (status) {
      var json = op.responses[status].content && op.responses[status].content["application/json"];
      if (json) body.appendChild(schemaBlock("Response " + status, json.schema));
    });
    box.appendChild(body);
    return box;
  }
  function render() {
    var main = document.getElementById("operations");
    main.textContent = "";
    var groups = {};
    Object.keys(doc.paths).forEach(function (path) {
      Object.keys(doc.paths[path]).forEach(function (method) {
        var op = doc.paths[path][method];
        var tag = (op.tags && op.tags[0]) || "Server";
        (groups[tag] = groups[tag] || []).push(operation(method, path, op));
      });
    });
    Object.keys(groups).forEach(function (tag) {
      main.appendChild(el("h2", null, tag));
      groups[tag].forEach(function (node) { main.appendChild(node); });
    });
  }
  fetch("/docs/openapi.json").then(function (r) { return r.json(); }).then(function (d) { doc = d; render(); }, function () {
    document.getElementById("operations").textContent = "The OpenAPI document could not be loaded.";
  });
})();
`;
