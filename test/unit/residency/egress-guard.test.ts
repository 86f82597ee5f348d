import { afterEach, describe, expect, test } from "bun:test";
import net from "node:net";
import tls from "node:tls";
import { EgressDeniedError, installEgressGuard, type EgressGuard } from "../../../src/residency/egress-guard";

let guard: EgressGuard | undefined;
afterEach(() => guard?.[Symbol.dispose]());

describe("installEgressGuard", () => {
  test("Should refuse fetch to a non-declared host - before any socket opens", async () => {
    guard = installEgressGuard({ allowedHosts: [] });
    const connect = net.Socket.prototype.connect;
    await expect(fetch("https://models.example/model.gguf")).rejects.toBeInstanceOf(EgressDeniedError);
    expect(net.Socket.prototype.connect).toBe(connect);
    expect(guard.refused).toEqual(["models.example"]);
  });

  test.each([
    ["net.connect(port, host)", () => net.connect(443, "203.0.113.7")],
    ["net.createConnection({host})", () => net.createConnection({ host: "telemetry.example", port: 443 })],
    ["tls.connect({host})", () => tls.connect({ host: "updates.example", port: 443 })],
    ["new Socket().connect({host})", () => new net.Socket().connect({ host: "198.51.100.1", port: 80 })],
  ])("Should refuse %s to a remote host", (_name, open) => {
    guard = installEgressGuard({ allowedHosts: [] });
    expect(open).toThrow(EgressDeniedError);
  });

  test("Should allow loopback and the declared upstream hosts", async () => {
    const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("ok") });
    try {
      guard = installEgressGuard({ allowedHosts: ["vllm.dc2.internal"] });
      expect(await (await fetch(`http://127.0.0.1:${server.port}/`)).text()).toBe("ok");
      expect(await (await fetch(`http://localhost:${server.port}/`)).text()).toBe("ok");
      expect(guard.refused).toEqual([]);
      const denied = await fetch("https://other.dc2.internal/v1/models").catch((error: unknown) => error);
      expect(denied).toBeInstanceOf(EgressDeniedError);
    } finally {
      server.stop(true);
    }
  });

  test("Should restore the original functions on dispose", () => {
    const original = globalThis.fetch;
    installEgressGuard({ allowedHosts: [] })[Symbol.dispose]();
    expect(globalThis.fetch).toBe(original);
  });
});
