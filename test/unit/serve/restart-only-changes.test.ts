import { describe, expect, test } from "bun:test";
import { configSchema } from "../../../src/config/schema";
import { restartOnlyChanges } from "../../../src/serve/restart-only-changes";

describe("restartOnlyChanges", () => {
  const running = configSchema.parse({ server: { port: 8080 }, limits: { rpm: 5 } });
  const cases: [string, Record<string, unknown>, string[]][] = [
    ["a changed limit", { server: { port: 8080 }, limits: { rpm: 9 } }, []],
    ["a changed port", { server: { port: 9090 }, limits: { rpm: 5 } }, ["server.port"]],
    ["a changed data dir and TLS", { server: { port: 8080, tls: { cert: "c.pem", key: "k.pem" } }, storage: { data_dir: "/srv/enclave" }, limits: { rpm: 5 } }, ["server.tls", "storage.data_dir"]],
    ["a changed residency region", { server: { port: 8080 }, residency: { region: "eu-1" }, limits: { rpm: 5 } }, ["residency"]],
  ];
  for (const [what, next, expected] of cases)
    test(`Should name ${expected.length === 0 ? "nothing" : expected.join(", ")} for ${what}`, () => {
      expect(restartOnlyChanges(running, configSchema.parse(next))).toEqual(expected);
    });
});
