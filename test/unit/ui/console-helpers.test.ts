import { describe, expect, test } from "bun:test";
import { limitsOf, limitsPayload, EMPTY_LIMITS } from "../../../src/ui/app/limits-form";
import { plainError } from "../../../src/ui/app/plain-error";
import { createSseParser } from "../../../src/ui/app/sse-lines";
import { csvCell, usageCsv } from "../../../src/ui/app/usage-csv";
import { daysBetween, usageSeries } from "../../../src/ui/app/usage-series";
import { runSpread } from "../../../src/ui/app/run-spread";
import type { UsageRow } from "../../../src/ui/app/api-types";
import { foldUnknownModels, OTHER_MODELS } from "../../../src/ui/app/fold-unknown-models";

describe("plainError", () => {
  const cases: [number, unknown, string | null, RegExp][] = [
    [0, null, null, /could not be reached/],
    [401, { error: { message: "invalid API key" } }, null, /did not accept this API key/],
    [403, { error: { message: "only an admin may read the audit log" } }, null, /^Not allowed: only an admin may read the audit log\.$/],
    [400, { error: { message: "invalid 'rpm': Too small: expected number to be >=0" } }, null, /rejected the request: invalid 'rpm'/],
    [429, { error: { message: "key concurrency limit" } }, "3", /try again in 3 s/],
    [503, null, "5", /busy or still loading a model; try again in 5 s/],
    [500, { error: { message: "internal error on request abc" } }, null, /server failed: internal error on request abc/],
    [502, "<html>", null, /server failed \(HTTP 502\)/],
  ];
  for (const [status, body, retryAfter, expected] of cases)
    test(`Should put HTTP ${status} in plain words`, () => expect(plainError(status, body, retryAfter)).toMatch(expected));
});

describe("createSseParser", () => {
  test("Should return each event's data once complete - across chunk boundaries and CRLF", () => {
    const parser = createSseParser();
    expect(parser.push('data: {"a":')).toEqual([]);
    expect(parser.push('1}\r\n\r\ndata: [DO')).toEqual(['{"a":1}']);
    expect(parser.push("NE]\n\n: comment\n\n")).toEqual(["[DONE]"]);
  });
});

describe("usage CSV", () => {
  test("Should quote separators and neutralise spreadsheet formulas", () => {
    expect(csvCell('a,"b"')).toBe('"a,""b"""');
    expect(csvCell("=HYPERLINK(1)")).toBe("'=HYPERLINK(1)");
    expect(csvCell(-3)).toBe("-3");
    expect(csvCell(null)).toBe("");
  });

  test("Should put names beside ids and only the grouping columns present", () => {
    const rows = [{ day: "2025-01-02", key_id: "k1", requests: 2, errors: 0, prompt_tokens: 10, completion_tokens: 5, cost: 0.5 }];
    const csv = usageCsv(rows, { keys: new Map([["k1", "svc, prod"]]), accounts: new Map() }, "EUR");
    expect(csv).toBe('day,key_id,key,requests,errors,prompt_tokens,completion_tokens,cost_EUR\r\n2025-01-02,k1,"svc, prod",2,0,10,5,0.5\r\n');
  });
});

describe("usageSeries", () => {
  test("Should give one point per day with zeros for empty days - largest groups first, the rest as (other)", () => {
    const days = daysBetween("2025-01-01", "2025-01-03");
    expect(days).toEqual(["2025-01-01", "2025-01-02", "2025-01-03"]);
    const row = (day: string, model: string, requests: number) => ({ day, model, requests, errors: 0, prompt_tokens: 0, completion_tokens: 0, cost: 0 });
    const rows = [row("2025-01-01", "a", 1), row("2025-01-03", "b", 5), row("2025-01-03", "c", 1), row("2025-01-02", "d", 1)];
    const chart = usageSeries(rows, "model", "requests", days, (id) => id.toUpperCase(), 3);
    expect(chart.x).toEqual([1735689600, 1735776000, 1735862400]);
    expect(chart.series).toEqual([
      { label: "B", values: [0, 0, 5] },
      { label: "A", values: [1, 0, 0] },
      { label: "(other)", values: [0, 1, 1] },
    ]);
  });
});

describe("limits form", () => {
  test("Should send every limit, empty fields as null (back to the default)", () => {
    expect(limitsPayload({ ...EMPTY_LIMITS, rpm: "60", models: "a, b", budget_period: "day", budget_tokens: "1000" }, "key")).toEqual({
      concurrency: null,
      budget_period: "day",
      budget_tokens: 1000,
      budget_cost: null,
      rpm: 60,
      tpm: null,
      models: ["a", "b"],
      allowed_ips: null,
      allowed_regions: null,
      expires_at: null,
    });
    expect(Object.keys(limitsPayload(EMPTY_LIMITS, "account")).sort()).toEqual(["allowed_regions", "budget_cost", "budget_period", "budget_tokens", "concurrency"]);
  });

  test("Should round-trip a key's limits through the form", () => {
    const key = { concurrency: 2, rpm: 0, tpm: null, budget_period: "month" as const, budget_tokens: null, budget_cost: 1.5, models: ["m"], allowed_ips: null, allowed_regions: ["eu-1"], expires_at: null };
    const { expires_at: _, ...sent } = limitsPayload(limitsOf(key), "key");
    const { expires_at: __, ...expected } = key;
    expect(sent).toEqual(expected);
  });
});

describe("runSpread", () => {
  const cases: [string, (number | null)[], ReturnType<typeof runSpread>][] = [
    ["no runs", [], null],
    ["only runs without a count", [null, Number.NaN], null],
    ["one run", [12], { runs: 1, median: 12, min: 12, max: 12 }],
    ["an odd count: the middle run", [30, 10, 20], { runs: 3, median: 20, min: 10, max: 30 }],
    ["an even count: the mean of the middle two", [40, 10, 30, 20], { runs: 4, median: 25, min: 10, max: 40 }],
    ["a run without a count is left out, not a zero", [10, null, 30], { runs: 2, median: 20, min: 10, max: 30 }],
  ];
  for (const [name, values, expected] of cases) test(`Should summarise ${name}`, () => expect(runSpread(values)).toEqual(expected));
});

describe("foldUnknownModels", () => {
  const row = (day: string, model: string | null, requests: number): UsageRow => ({ day, model, requests, errors: 0, prompt_tokens: requests * 10, completion_tokens: requests, cost: requests / 100 });

  test("Should keep rows of served models and sum the rest into one row per day - totals unchanged", () => {
    const rows = [row("2025-01-01", "tiny", 3), row("2025-01-01", "unknown", 2), row("2025-01-01", "removed-model", 1), row("2025-01-01", null, 1), row("2025-01-02", "", 4), row("2025-01-02", "tiny", 1)];
    const folded = foldUnknownModels(rows, new Set(["tiny"]));
    expect(folded.map((r) => [r.day, r.model, r.requests])).toEqual([
      ["2025-01-01", "tiny", 3],
      ["2025-01-01", OTHER_MODELS, 4],
      ["2025-01-02", OTHER_MODELS, 4],
      ["2025-01-02", "tiny", 1],
    ]);
    const sum = (list: typeof rows) => list.reduce((total, r) => total + r.prompt_tokens, 0);
    expect(sum(folded)).toBe(sum(rows));
    // The input rows are not changed in place.
    expect(rows[1]!.model).toBe("unknown");
  });

  test("Should add no row when every model is served", () => {
    const rows = [row("2025-01-01", "a", 1), row("2025-01-01", "b", 2)];
    expect(foldUnknownModels(rows, new Set(["a", "b"]))).toEqual(rows);
  });
});
