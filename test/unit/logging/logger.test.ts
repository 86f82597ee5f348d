import { describe, expect, test } from "bun:test";
import { engineFailure } from "../../../src/inference/engine-failure";
import { createLogger, logFormat } from "../../../src/logging/logger";

function capture(format: "auto" | "json" | "pretty", isTty: boolean) {
  const lines: string[] = [];
  const logger = createLogger({ logging: { level: "info", format } }, { write: (line: string) => void lines.push(line) }, isTty);
  return { logger, lines };
}

describe("createLogger", () => {
  const formats: ["auto" | "json" | "pretty", boolean, "json" | "pretty"][] = [
    ["auto", true, "pretty"],
    ["auto", false, "json"],
    ["json", true, "json"],
    ["pretty", false, "pretty"],
  ];
  for (const [format, isTty, expected] of formats) {
    test(`Should write ${expected} lines for format ${format} ${isTty ? "on" : "off"} a terminal`, () => {
      expect(logFormat(format, isTty)).toBe(expected);
      const { logger, lines } = capture(format, isTty);
      logger.info({ model: "demo" }, "model demo ready");
      expect(lines).toHaveLength(1);
      if (expected === "json") expect(JSON.parse(lines[0]!)).toMatchObject({ level: "info", msg: "model demo ready", model: "demo" });
      else {
        expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\] .*INFO.*: .*model demo ready/);
        expect(lines[0]!.trimEnd().split("\n")).toHaveLength(1);
      }
    });
  }

  test("Should keep an engine failure's class and message as given - pino's err serializer made every one type Object", () => {
    const { logger, lines } = capture("json", false);
    logger.error({ err: engineFailure(new RangeError("offset out of range")) }, "model failed to load");
    expect(JSON.parse(lines[0]!).err).toEqual({ type: "RangeError", message: "offset out of range" });
  });

  test("Should log an Error passed by mistake as its class only - its message may quote a prompt", () => {
    const { logger, lines } = capture("json", false);
    logger.error({ err: new TypeError("cannot read 'zdr-canary'") }, "oops");
    expect(lines[0]).not.toContain("zdr-canary");
    expect(JSON.parse(lines[0]!).err).toEqual({ type: "TypeError" });
  });

  test("Should redact payload fields in human-readable lines too", () => {
    const { logger, lines } = capture("pretty", true);
    logger.info({ prompt: "zdr-canary", request: { content: "zdr-canary" } }, "request");
    expect(lines.join("")).not.toContain("zdr-canary");
  });
});
