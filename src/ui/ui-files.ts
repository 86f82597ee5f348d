/** One file of the console as served under /ui. */
export interface UiFile {
  /** Path under /ui: "index.html", "app.js" or "app.css". */
  name: string;
  contentType: string;
  body: Uint8Array<ArrayBuffer>;
}

export const UI_CONTENT_TYPES: Record<string, string> = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "app.css": "text/css; charset=utf-8",
};
