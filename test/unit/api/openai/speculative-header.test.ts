import { describe, expect, test } from "bun:test";
import { speculativeHeader } from "../../../../src/api/openai/speculative-header";
import { InvalidRequestError } from "../../../../src/errors";

describe("X-Enclave-Speculative", () => {
  const cases: [string | null, "auto" | "on" | "off"][] = [
    [null, "auto"],
    ["", "auto"],
    ["auto", "auto"],
    ["on", "on"],
    ["off", "off"],
    [" OFF ", "off"],
  ];
  for (const [value, expected] of cases)
    test(`Should read ${JSON.stringify(value)} as ${expected}`, () => {
      const headers = new Headers(value == null ? {} : { "x-enclave-speculative": value });
      expect(speculativeHeader(headers)).toBe(expected);
    });

  test("Should reject any other value - 400 naming the header, not a silent default", () => {
    const error = (() => {
      try {
        speculativeHeader(new Headers({ "x-enclave-speculative": "false" }));
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect((error as InvalidRequestError).param).toBe("X-Enclave-Speculative");
  });
});
