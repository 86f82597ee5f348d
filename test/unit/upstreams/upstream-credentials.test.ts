import { describe, expect, test } from "bun:test";
import { ConfigError } from "../../../src/config/config-error";
import { upstreamCredentials } from "../../../src/config/upstream-credentials";

const upstream = (id: string, api_key_env?: string) => ({ id, url: "http://u.test/v1", region: "eu-1", models: ["m"], weight: 1, kind: "openai" as const, probe_seconds: 2, ...(api_key_env && { api_key_env }) });

describe("upstreamCredentials", () => {
  test("Should read each upstream's key from the variable it names - none for an upstream without one", () => {
    const keys = upstreamCredentials({ upstreams: [upstream("a", "A_KEY"), upstream("b")] }, { A_KEY: "sk-a" });
    expect([...keys]).toEqual([["a", "sk-a"]]);
  });

  test("Should refuse a named variable that is unset or empty - naming the variable, never a value", () => {
    const error = (() => {
      try {
        upstreamCredentials({ upstreams: [upstream("a", "A_KEY"), upstream("b", "B_KEY")] }, { B_KEY: "" });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => [p.source, p.key, p.got])).toEqual([
      ["A_KEY", "upstreams[0].api_key_env", "unset"],
      ["B_KEY", "upstreams[1].api_key_env", "unset"],
    ]);
  });
});
