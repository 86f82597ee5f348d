import { describe, expect, test } from "bun:test";
import { createSocketInputCheck } from "../../../src/inference/socket-input";

describe("socket input check", () => {
  test.skipIf(process.platform !== "linux")("Should see a connection the event loop has not taken yet - and nothing while none waits", async () => {
    await using server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("ok") });
    const check = createSocketInputCheck()!;
    expect(check()).toBe(false);
    // The client connects while this thread is blocked, as the event loop is during a decode run.
    const client = Bun.spawn(["bun", "-e", `await fetch("http://127.0.0.1:${server.port}/")`], { stdout: "ignore", stderr: "ignore" });
    let seen = false;
    const deadline = performance.now() + 5000;
    while (!seen && performance.now() < deadline) {
      Bun.sleepSync(10);
      seen = check();
    }
    expect(seen).toBe(true);
    await client.exited;
    // It polls at most every few milliseconds.
    Bun.sleepSync(10);
    expect(check()).toBe(false);
  });
});
