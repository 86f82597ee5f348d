/**
 * The deployment kit against the metrics the app really serves: every series the Grafana
 * dashboard queries is a family GET /metrics exposes (a renamed metric breaks this test, not a
 * panel nobody looks at), and the Prometheus scrape job authenticates the way /metrics checks.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseExposition, type Sample } from "../../unit/metrics/exposition";
import { request } from "../../support/test-app";
import { metricsApp } from "../metrics-harness";

const root = join(import.meta.dir, "../../..");
const dashboard = (await Bun.file(join(root, "deploy/grafana/enclave-dashboard.json")).json()) as {
  panels: { title: string; targets: { expr: string; legendFormat?: string }[] }[];
  templating: { list: { query?: unknown }[] };
};
const scrape = Bun.YAML.parse(await Bun.file(join(root, "deploy/prometheus/scrape.yml")).text()) as {
  scrape_configs: { job_name: string; metrics_path: string; authorization: { type: string; credentials_file: string } }[];
};

/** Every PromQL expression in the dashboard: panel targets and template-variable queries. */
const queries: { where: string; expr: string; legend: string }[] = [
  ...dashboard.panels.flatMap((panel) => panel.targets.map((target) => ({ where: panel.title, expr: target.expr, legend: target.legendFormat ?? "" }))),
  ...dashboard.templating.list.flatMap((variable) => {
    const query = typeof variable.query === "object" && variable.query != null ? (variable.query as { query?: string }).query : undefined;
    return query != null ? [{ where: "templating", expr: query, legend: "" }] : [];
  }),
];

const METRIC = /\b(?:enclave|process)_[a-z0-9_]+\b/g;
const familyOf = (name: string, types: Map<string, string>) => {
  if (types.has(name)) return name;
  const base = name.replace(/_(bucket|sum|count)$/, "");
  return types.get(base) === "histogram" ? base : null;
};
/** Labels an expression groups by, matches on or prints: each must be one the series carries. */
const labelsIn = (expr: string, legend: string) =>
  new Set(
    [
      ...[...expr.matchAll(/\bby \(([^)]*)\)/g)].flatMap((match) => match[1]!.split(",")),
      ...[...expr.matchAll(/\{([^}]*)\}/g)].flatMap((match) => [...match[1]!.matchAll(/([a-z_]+)\s*=~?/g)].map((label) => label[1]!)),
      ...[...legend.matchAll(/\{\{(\w+)\}\}/g)].map((match) => match[1]!),
    ]
      .map((label) => label.trim())
      .filter((label) => label !== "" && label !== "le"),
  );

const token = "dashboard-scrape-token";
const bearerFromScrapeConfig = () => {
  const job = scrape.scrape_configs.find((config) => config.job_name === "enclave")!;
  // The file the job reads, as the install notes say to write it: the token on one line.
  const credentials = join(mkdtempSync(join(tmpdir(), "enclave-scrape-")), "token");
  writeFileSync(credentials, `${token}\n`);
  return { path: job.metrics_path, header: `${job.authorization.type} ${readFileSync(credentials, "utf8").trim()}` };
};

async function scrapeAfterTraffic() {
  const h = await metricsApp({
    config: { metrics: { token }, limits: { rpm: 1 } },
    fake: { models: [{ id: "fake", parallel: 2, queueSize: 4, speculative: "draft" }] },
  });
  await h.engine.start();
  const chat = () => h.app.handle(request("/v1/chat/completions", { method: "POST", headers: { authorization: `Bearer ${h.secret}` }, json: { model: "fake", messages: [{ role: "user", content: "1 2 3" }], max_tokens: 4 } }));
  expect((await chat()).status).toBe(200);
  expect((await chat()).status).toBe(429);
  return h;
}

describe("deploy/grafana/enclave-dashboard.json", () => {
  test("Should query only series GET /metrics exposes - with the labels each panel groups by or prints", async () => {
    using h = await scrapeAfterTraffic();
    const { path, header } = bearerFromScrapeConfig();
    const response = await h.app.handle(request(path, { headers: { authorization: header } }));
    expect(response.status).toBe(200);
    const { samples, types } = parseExposition(await response.text());

    expect(queries.length).toBeGreaterThan(15);
    const missing: string[] = [];
    const unlabelled: string[] = [];
    for (const { where, expr, legend } of queries) {
      const names = expr.match(METRIC) ?? [];
      if (names.length === 0) missing.push(`${where}: no enclave series in ${expr}`);
      const labels = labelsIn(expr, legend);
      for (const name of names) {
        const family = familyOf(name, types);
        if (family == null) {
          missing.push(`${where}: ${name}`);
          continue;
        }
        const ofFamily: Sample[] = samples.filter((sample) => familyOf(sample.name, types) === family);
        // A family with no sample yet (e.g. a null acceptance ratio) still proves the name; labels need a sample.
        if (ofFamily.length > 0 && !ofFamily.some((sample) => [...labels].every((label) => label in sample.labels)))
          unlabelled.push(`${where}: ${name} lacks one of ${[...labels].join(", ")}`);
      }
    }
    expect(missing).toEqual([]);
    expect(unlabelled).toEqual([]);
  });

  test("Should cover what an operator watches - TTFT, inter-token latency, tokens/s, queue depth, speculative acceptance and time saved, 429s by reason, sequences", () => {
    const all = queries.map((query) => query.expr).join("\n");
    for (const series of [
      "enclave_time_to_first_token_seconds_bucket",
      "enclave_inter_token_latency_seconds_bucket",
      "enclave_completion_tokens_total",
      "enclave_queue_depth",
      "enclave_speculative_acceptance_ratio",
      "enclave_speculative_time_saved_seconds",
      "sum by (reason) (rate(enclave_rate_limited_total",
      "enclave_sequences",
    ])
      expect(all).toContain(series);
  });
});

describe("deploy/prometheus/scrape.yml", () => {
  test("Should not authorize a scrape without the job's bearer token - /metrics answers 401", async () => {
    using h = await scrapeAfterTraffic();
    const { path } = bearerFromScrapeConfig();
    expect((await h.app.handle(request(path))).status).toBe(401);
    expect((await h.app.handle(request(path, { headers: { authorization: `Bearer not-${token}` } }))).status).toBe(401);
  });
});

