import { describe, expect, test } from "bun:test";
import { api, chatBody, guardedApp } from "../auth/harness";

describe("a client that goes away before a non-streaming answer", () => {
  test("Should be metered and logged as 499 client_closed_request, not as a server fault - and free its slot", async () => {
    using h = await guardedApp({ fake: { tokenDelayMs: 20 } });
    const controller = new AbortController();
    const answer = h.app.handle(api("/v1/chat/completions", h.adminSecret, { method: "POST", json: chatBody({ max_tokens: 50 }), signal: controller.signal }));
    await Bun.sleep(60);
    controller.abort();
    await answer.catch(() => undefined);
    await Bun.sleep(50);
    const rows = h.store.sqlite.query("select status, error_code as code from usage_events").all();
    expect(rows).toEqual([{ status: 499, code: "client_closed_request" }]);
    expect(h.logLines.some((line) => line.includes('"status":500'))).toBe(false);
    expect(h.stats.inFlight).toBe(0);
  });
});
