/**
 * The console's one HTML page. Everything it loads comes from this server under /ui; the
 * favicon is an empty data: URL so the browser does not even ask for /favicon.ico.
 */
export function indexHtml(version: string): string {
  const v = encodeURIComponent(version);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="color-scheme" content="light dark">
<title>Enclave console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui/app.css?v=${v}">
<script type="module" src="/ui/app.js?v=${v}"></script>
</head>
<body>
<div id="app"></div>
<noscript><p>The Enclave console needs JavaScript. The same functions are in the CLI (enclave keys, usage, audit) and the /admin API.</p></noscript>
</body>
</html>
`;
}
