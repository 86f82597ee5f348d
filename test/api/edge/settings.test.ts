import { describe, expect, test } from "bun:test";
import { configSchema } from "../../../src/config/schema";
import { createOpenAiRoutes } from "../../../src/api/openai/routes";
import { createFakeEngine } from "../../../src/inference/fake-engine";
import { fixedCallerGate } from "../../support/fixed-caller-gate";
import { createTestApp, request } from "../../support/test-app";

function corsApp(origins: string[]) {
  const engine = createFakeEngine();
  const server = { host: "127.0.0.1", port: 0, body_limit_bytes: 64 * 1024, cors_origins: origins, write_timeout_seconds: 30, shutdown_grace_seconds: 1 };
  return createTestApp({ config: { server }, engine, routes: [createOpenAiRoutes({ engine, gate: fixedCallerGate() })] }).app;
}

describe("server.cors_origins", () => {
  test("Should answer a preflight from a configured origin with its CORS headers - and the request itself too", async () => {
    const app = corsApp(["https://app.example"]);
    const preflight = await app.handle(
      request("/v1/chat/completions", { method: "OPTIONS", headers: { origin: "https://app.example", "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" } }),
    );
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(preflight.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
    const models = await app.handle(request("/v1/models", { headers: { origin: "https://app.example" } }));
    expect(models.headers.get("access-control-allow-origin")).toBe("https://app.example");
  });

  test("Should send no CORS header to another origin - nor to any origin when none is configured", async () => {
    for (const [origins, origin] of [[["https://app.example"], "https://evil.example"], [[], "https://app.example"]] as const) {
      const app = corsApp([...origins]);
      const models = await app.handle(request("/v1/models", { headers: { origin } }));
      expect(models.headers.get("access-control-allow-origin")).toBeNull();
      const preflight = await app.handle(request("/v1/models", { method: "OPTIONS", headers: { origin, "access-control-request-method": "GET" } }));
      expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    }
  });
});

describe("metrics without a token", () => {
  test("Should refuse a config that serves /metrics without a token on a public address - naming metrics.token", () => {
    const result = configSchema.safeParse({ server: { host: "0.0.0.0" } });
    expect(result.success).toBe(false);
    const issue = result.error!.issues.find((i) => i.path.join(".") === "metrics.token");
    expect(issue?.message).toContain("metrics.token");
  });

  test("Should accept an open /metrics on loopback, a token on a public address, or metrics off", () => {
    for (const config of [{}, { server: { host: "::1" } }, { server: { host: "0.0.0.0" }, metrics: { token: "t" } }, { server: { host: "0.0.0.0" }, metrics: { enabled: false } }])
      expect(configSchema.safeParse(config).success).toBe(true);
  });
});
