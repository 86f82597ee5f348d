import { describe, expect, test } from "bun:test";
import { createUiRoutes, UI_CONTENT_SECURITY_POLICY } from "../../src/ui/ui-routes";
import type { UiFile } from "../../src/ui/ui-files";
import { createTestApp, request } from "../support/test-app";

const bytes = (text: string) => new TextEncoder().encode(text);
const stubFiles = async (): Promise<UiFile[]> => [
  { name: "index.html", contentType: "text/html; charset=utf-8", body: bytes("<!doctype html><title>t</title>") },
  { name: "app.js", contentType: "text/javascript; charset=utf-8", body: bytes("console.log(1)") },
  { name: "app.css", contentType: "text/css; charset=utf-8", body: bytes("body{}") },
];

describe("GET /ui", () => {
  test("Should serve the page and its files without a key - each with its content type and the strict CSP", async () => {
    const { app } = createTestApp({ routes: [createUiRoutes({ files: stubFiles })] });
    for (const [path, type] of [
      ["/ui", "text/html"],
      ["/ui/", "text/html"],
      ["/ui/app.js", "text/javascript"],
      ["/ui/app.css", "text/css"],
    ] as const) {
      const response = await app.handle(request(path));
      expect({ path, status: response.status }).toEqual({ path, status: 200 });
      expect(response.headers.get("content-type")).toStartWith(type);
      expect(response.headers.get("content-security-policy")).toBe(UI_CONTENT_SECURITY_POLICY);
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(response.headers.get("x-frame-options")).toBe("DENY");
      expect(response.headers.get("referrer-policy")).toBe("no-referrer");
      expect(response.headers.get("set-cookie")).toBeNull();
    }
    expect(UI_CONTENT_SECURITY_POLICY).toContain("default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'");
  });

  test("Should answer 304 to a matching If-None-Match - and 404 in the API's error shape for an unknown file", async () => {
    const { app } = createTestApp({ routes: [createUiRoutes({ files: stubFiles })] });
    const first = await app.handle(request("/ui/app.js"));
    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^".+"$/);
    const again = await app.handle(request("/ui/app.js", { headers: { "if-none-match": etag } }));
    expect(again.status).toBe(304);
    const missing = await app.handle(request("/ui/secrets.txt"));
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as any).error.type).toBe("not_found_error");
  });

  test("Should load the files once - and try again after a failed bundle", async () => {
    let calls = 0;
    const flaky = async () => {
      calls++;
      if (calls === 1) throw new Error("bundle failed");
      return stubFiles();
    };
    const { app } = createTestApp({ routes: [createUiRoutes({ files: flaky })] });
    expect((await app.handle(request("/ui"))).status).toBe(500);
    expect((await app.handle(request("/ui"))).status).toBe(200);
    expect((await app.handle(request("/ui/app.css"))).status).toBe(200);
    expect(calls).toBe(2);
  });

  test("Should bundle the real console from source - one script and one stylesheet from /ui, no other host named anywhere", async () => {
    const { app } = createTestApp({ routes: [createUiRoutes()] });
    const html = await (await app.handle(request("/ui"))).text();
    expect(html).toContain('<script type="module" src="/ui/app.js');
    expect(html).toContain('<link rel="stylesheet" href="/ui/app.css');
    expect(html).not.toMatch(/<script>|<style|style=/);
    const js = await (await app.handle(request("/ui/app.js"))).text();
    const css = await (await app.handle(request("/ui/app.css"))).text();
    expect(js.length).toBeGreaterThan(10_000);
    expect(css).toContain(".uplot");
    // XML namespace names are identifiers, never fetched; any other absolute URL would be a request elsewhere.
    const urls = [...`${html}\n${js}\n${css}`.matchAll(/(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s"'`)]*/gi)].map((m) => m[0]);
    expect(urls.filter((url) => !url.startsWith("http://www.w3.org/"))).toEqual([]);
    expect(css).not.toMatch(/@import|url\((?!["']?data:)/);
  });
});
