import { describe, expect, test } from "bun:test";
import { bearer, chatBody, guardedApp, type GuardedAppOptions } from "../auth/harness";

/** The guarded app on a real loopback socket, so streams, disconnects and timing are as in production. */
async function served(options: GuardedAppOptions) {
  const h = await guardedApp(options);
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (request) => h.app.handle(request) });
  const url = `http://127.0.0.1:${server.port}`;
  return {
    ...h,
    url,
    post: (secret: string, body: unknown, signal?: AbortSignal) =>
      fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { ...bearer(secret), "content-type": "application/json" }, body: JSON.stringify(body), signal }),
    [Symbol.dispose]() {
      server.stop(true);
      h[Symbol.dispose]();
    },
  };
}

describe("concurrency limit under load", () => {
  test("Should never run more than the key's limit at once - excess queues, then 429 with Retry-After when the queue is full", async () => {
    using s = await served({ config: { limits: { concurrency: 3, queue_size: 4, queue_wait_seconds: 30 } }, fake: { tokenDelayMs: 15 } });
    const { key, secret } = await s.keys.create(s.cli, { name: "load", account_id: s.root.id });
    const responses = await Promise.all(
      Array.from({ length: 12 }, async () => {
        const response = await s.post(secret, chatBody({ stream: true }));
        return { status: response.status, retryAfter: response.headers.get("retry-after"), body: await response.text() };
      }),
    );
    const ok = responses.filter((response) => response.status === 200);
    const limited = responses.filter((response) => response.status === 429);
    expect(ok.length).toBe(3 + 4);
    expect(limited.length).toBe(12 - 7);
    for (const response of ok) expect(response.body).toEndWith("data: [DONE]\n\n");
    for (const response of limited) {
      expect(Number(response.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(JSON.parse(response.body).error).toMatchObject({ type: "rate_limit_error", code: "concurrency_queue_full" });
    }
    expect(s.stats.maxInFlight).toBe(3);
    expect(s.stats.inFlight).toBe(0);
    expect(await s.admission.limiter.stats(key.id, key.accountId)).toEqual({ keyInFlight: 0, keyQueued: 0, accountInFlight: 0 });
    // Queued requests report their wait in the metering row.
    const waits = s.store.sqlite.query("select queue_ms from usage_events where status = 200 order by queue_ms").all() as { queue_ms: number }[];
    expect(waits.length).toBe(7);
    expect(waits.at(-1)!.queue_ms).toBeGreaterThan(100);
  });

  test("Should answer 429 when a request waited longer than queue_wait_seconds - and never start it", async () => {
    using s = await served({ config: { limits: { concurrency: 1, queue_size: 8, queue_wait_seconds: 0.1 } }, fake: { tokenDelayMs: 30 } });
    const { secret } = await s.keys.create(s.cli, { name: "slow", account_id: s.root.id });
    const [first, second] = await Promise.all([s.post(secret, chatBody({ stream: true })), Bun.sleep(10).then(() => s.post(secret, chatBody({ stream: true })))]);
    expect(second.status).toBe(429);
    expect(second.headers.get("retry-after")).toBe("1");
    expect(((await second.json()) as any).error.code).toBe("concurrency_wait_exceeded");
    expect(first.status).toBe(200);
    await first.text();
    expect(s.stats.started).toBe(1);
  });

  test("Should give the slot back when the client disconnects mid-stream - the next request runs", async () => {
    using s = await served({ config: { limits: { concurrency: 1, queue_size: 0 } }, fake: { tokenDelayMs: 50, naturalLength: 200 } });
    const { secret } = await s.keys.create(s.cli, { name: "flaky", account_id: s.root.id });
    const abort = new AbortController();
    const streaming = await s.post(secret, chatBody({ stream: true }), abort.signal);
    expect(streaming.status).toBe(200);
    const reader = streaming.body!.getReader();
    await reader.read();
    // While the stream runs, the key has no free slot and no queue.
    const busy = await s.post(secret, chatBody());
    expect(busy.status).toBe(429);
    abort.abort();
    await reader.cancel().catch(() => {});
    let next: Response | undefined;
    for (let attempt = 0; attempt < 50; attempt++) {
      next = await s.post(secret, chatBody({ max_tokens: 2 }));
      if (next.status === 200) break;
      await Bun.sleep(20);
    }
    expect(next?.status).toBe(200);
    expect(s.stats.maxInFlight).toBe(1);
  });

  test("Should hold the account's limit across its keys", async () => {
    using s = await served({ config: { limits: { concurrency: 3, account_concurrency: 2, queue_size: 8 } }, fake: { tokenDelayMs: 10 } });
    const team = await s.accounts.create(s.cli, { name: "team" });
    const a = (await s.keys.create(s.cli, { name: "a", account_id: team.id })).secret;
    const b = (await s.keys.create(s.cli, { name: "b", account_id: team.id })).secret;
    const statuses = await Promise.all([a, a, a, b, b, b].map(async (secret) => {
      const response = await s.post(secret, chatBody({ stream: true }));
      await response.text();
      return response.status;
    }));
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
    expect(s.stats.maxInFlight).toBe(2);
  });

  test("Should let a key's own limit override the default", async () => {
    using s = await served({ config: { limits: { concurrency: 1, account_concurrency: 0, queue_size: 16 } }, fake: { tokenDelayMs: 10 } });
    const { secret } = await s.keys.create(s.cli, { name: "wide", account_id: s.root.id, concurrency: 5 });
    await Promise.all(Array.from({ length: 10 }, async () => (await s.post(secret, chatBody({ stream: true }))).text()));
    expect(s.stats.maxInFlight).toBe(5);
  });
});
