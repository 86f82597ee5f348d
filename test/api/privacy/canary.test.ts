import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import pino from "pino";
import { configSchema } from "../../../src/config/schema";
import { retainedPayloads } from "../../../src/db/schema";
import { createPrivacy } from "../../../src/privacy/create-privacy";
import { createSqliteConsentRepository } from "../../../src/store/sqlite-consent-repository";
import { createSqlitePayloadRepository } from "../../../src/store/sqlite-payload-repository";
import { createSqliteSubjectRepository } from "../../../src/store/sqlite-subject-repository";
import { guardedApp } from "../auth/harness";
import { canaries, captureOutput, driveEveryEndpoint, filesUnder, newTempFiles, occurrences, tempSnapshot, type ExchangeResult } from "./canary-harness";

const DAY = 86_400_000;

const fakeModels = {
  models: [
    { id: "fake", parallel: 64, queueSize: 64 },
    { id: "tiny", contextSize: 64 },
    { id: "broken-admit" },
    { id: "broken-stream" },
    { id: "slow", parallel: 4 },
  ],
  tokenDelayMs: 2,
  fault: (request: { model: string }) => (request.model === "broken-admit" ? "admit" : request.model === "broken-stream" ? "stream" : undefined),
} as const;

/** Each failure path answered as it should, so the scan covers what it claims to. */
function expectEveryPath(results: ExchangeResult[]) {
  const status = (name: string) => results.find((result) => result.name === name)?.status;
  for (const tag of ["json", "stream"]) {
    expect(status(`chat ${tag}`)).toBe(200);
    expect(status(`chat tool call ${tag}`)).toBe(200);
    expect(status(`chat json_schema ${tag}`)).toBe(200);
    expect(status(`completion ${tag}`)).toBe(200);
    expect(status(`unknown model ${tag}`)).toBe(404);
    expect(status(`context overflow ${tag}`)).toBe(400);
    expect(status(`context overflow completion ${tag}`)).toBe(400);
    expect(status(`engine error at admission ${tag}`)).toBe(500);
    expect(status(`validation error ${tag}`)).toBe(400);
    expect(status(`validation error in a message ${tag}`)).toBe(400);
    expect(status(`tool_choice naming an absent tool ${tag}`)).toBe(400);
    expect(status(`responses ${tag}`)).toBe(200);
    expect(status(`responses tool call ${tag}`)).toBe(200);
    expect(status(`responses json_schema ${tag}`)).toBe(200);
    expect(status(`responses unknown model ${tag}`)).toBe(404);
    expect(status(`responses context overflow ${tag}`)).toBe(400);
    expect(status(`responses validation error ${tag}`)).toBe(400);
    expect(status(`responses validation error in an item ${tag}`)).toBe(400);
    expect(status(`responses previous_response_id ${tag}`)).toBe(400);
  }
  expect(status("responses engine error mid-stream json")).toBe(500);
  expect(status("responses engine error mid-stream stream")).toBe(200);
  expect(status("responses GET by id")).toBe(404);
  expect(status("responses DELETE by id")).toBe(404);
  expect(results.find((result) => result.name === "responses tool call json")?.body).toContain("TSCH");
  expect(results.find((result) => result.name === "responses json_schema json")?.body).toContain("JSCH");
  expect(results.find((result) => result.name === "responses engine error mid-stream stream")?.body).toContain("response.failed");
  // Mid-stream engine errors: a 500 without streaming, an error event inside a 200 stream.
  expect(status("engine error mid-stream json")).toBe(500);
  expect(status("engine error mid-stream stream")).toBe(200);
  expect(status("embeddings")).toBe(200);
  expect(status("embeddings validation error")).toBe(400);
  expect(status("embeddings unknown model")).toBe(404);
  expect(status("malformed JSON")).toBe(400);
  expect(status("body too large")).toBe(413);
  for (const tag of ["json", "stream"]) {
    expect(status(`messages ${tag}`)).toBe(200);
    expect(status(`messages tool_use ${tag}`)).toBe(200);
    expect(status(`messages unknown model ${tag}`)).toBe(404);
    expect(status(`messages context overflow ${tag}`)).toBe(400);
    // A 500 without streaming, an `error` event inside a 200 stream.
    expect(status(`messages engine error mid-stream ${tag}`)).toBe(tag === "json" ? 500 : 200);
    expect(status(`messages validation error ${tag}`)).toBe(400);
    expect(status(`messages image block ${tag}`)).toBe(400);
  }
  expect(status("count_tokens")).toBe(200);
  expect(status("count_tokens validation error")).toBe(400);
  // The tool schema's canary came back as the tool_use block's input: the Messages scan has an output canary too.
  expect(results.find((result) => result.name === "messages tool_use json")?.body).toContain("TSCH");
  // The canary placed in a tool schema const came back in the completion: the scan has an output canary.
  expect(results.find((result) => result.name === "chat tool call json")?.body).toContain("TSCH");
  expect(results.find((result) => result.name === "chat json_schema json")?.body).toContain("JSCH");
}

/** Error bodies carry facts (codes, counts, ids), never what the client sent. */
function expectNoCanaryInErrors(results: ExchangeResult[], needles: string[]) {
  const leaks = results.filter((result) => result.status >= 400).flatMap((result) => needles.filter((needle) => result.body.includes(needle)).map((needle) => `${result.name}: ${needle}`));
  expect(leaks).toEqual([]);
}

async function runScenario(retention: Record<string, unknown>) {
  const before = tempSnapshot();
  let clock = Date.parse("2026-03-01T12:00:00Z");
  const h = await guardedApp({ config: { retention }, fake: fakeModels as never, now: () => clock });
  const c = canaries();
  const needles = Object.values(c);
  const { result: results, output } = await captureOutput(() => driveEveryEndpoint(h.app, h.adminSecret, c));
  return { h, c, needles, results, output, before, advance: (ms: number) => (clock += ms), now: () => clock };
}

describe("zero data retention (default)", () => {
  test("Should leave no prompt, completion or tool payload anywhere - data dir (SQLite, WAL, SHM), logs at debug level, stdout/stderr, temp files - on every path", async () => {
    const s = await runScenario({});
    using h = s.h;
    expect(h.config.retention.payloads).toBe("none");
    expectEveryPath(s.results);
    expectNoCanaryInErrors(s.results, s.needles);

    const stored = filesUnder(h.dataDir);
    expect(stored.map((file) => file.path.split("/").at(-1))).toEqual(expect.arrayContaining(["enclave.sqlite", "enclave.sqlite-wal", "enclave.sqlite-shm"]));
    expect(occurrences(stored, s.needles)).toEqual([]);
    expect(occurrences([{ path: "logs", bytes: Buffer.from(h.logLines.join("\n")) }], s.needles)).toEqual([]);
    expect(occurrences([{ path: "stdout/stderr", bytes: Buffer.from(s.output) }], s.needles)).toEqual([]);
    expect(occurrences(newTempFiles(s.before), s.needles)).toEqual([]);

    // The scan saw real activity: metering rows for the requests, and logs at debug level.
    const requests = h.store.sqlite.query("select count(*) as n from usage_events").get() as { n: number };
    expect(requests.n).toBeGreaterThan(20);
    expect((h.store.sqlite.query("select count(*) as n from retained_payloads").get() as { n: number }).n).toBe(0);
  });

  test("Should keep nothing for an account with a stricter override even where the global mode retains", async () => {
    const key = randomBytes(32).toString("hex");
    using h = await guardedApp({ config: { retention: { payloads: "anonymized", payload_key: key } } });
    const put = await h.app.handle(
      new Request(`http://localhost/admin/accounts/${h.root.id}/retention`, {
        method: "PUT",
        headers: { authorization: `Bearer ${h.adminSecret}`, "content-type": "application/json" },
        body: JSON.stringify({ payloads: "none" }),
      }),
    );
    expect(put.status).toBe(200);
    const c = canaries();
    await driveEveryEndpoint(h.app, h.adminSecret, c);
    expect((h.store.sqlite.query("select count(*) as n from retained_payloads").get() as { n: number }).n).toBe(0);
    expect(occurrences(filesUnder(h.dataDir), Object.values(c))).toEqual([]);
  });
});

describe("anonymized retention", () => {
  test("Should keep payloads only encrypted, without account ids, and leave no trace of them after the purge", async () => {
    const key = randomBytes(32).toString("base64");
    const retention = { payloads: "anonymized", payload_key: key, payload_days: 30 };
    const s = await runScenario(retention);
    using h = s.h;
    expectEveryPath(s.results);
    expectNoCanaryInErrors(s.results, s.needles);

    // No plaintext anywhere.
    expect(occurrences(filesUnder(h.dataDir), s.needles)).toEqual([]);
    expect(occurrences([{ path: "logs", bytes: Buffer.from(h.logLines.join("\n")) }], s.needles)).toEqual([]);
    expect(occurrences([{ path: "stdout/stderr", bytes: Buffer.from(s.output) }], s.needles)).toEqual([]);
    expect(occurrences(newTempFiles(s.before), s.needles)).toEqual([]);

    // Completed generations and embeddings are kept (encrypted), failures and aborts are not.
    const rows = h.store.sqlite.query("select * from retained_payloads").all() as Record<string, unknown>[];
    expect(rows.length).toBe(19); // (4 chat/completion + 3 Responses + 2 Messages successes) x stream/non-stream + 1 embedding
    for (const row of rows) expect(row).toMatchObject({ mode: "anonymized", basis: "policy", account_id: null, key_id: null, consent_id: null });

    // Decrypted with the key, the canaries are there: retention works, and it is only the key that reads it.
    const privacy = createPrivacy({
      consents: createSqliteConsentRepository(h.store.db, h.store.sqlite),
      payloads: createSqlitePayloadRepository(h.store.db, h.store.sqlite),
      subjects: createSqliteSubjectRepository(h.store.db, h.store.sqlite),
      retention: configSchema.parse({ retention }).retention, logger: pino({ level: "silent" }), now: s.now });
    const opened = h.store.db.select().from(retainedPayloads).all().map(privacy.payloads.open);
    const plaintext = JSON.stringify(opened);
    for (const needle of [s.c.system, s.c.user, s.c.toolArgs, s.c.toolResult, s.c.prompt, s.c.embedding, s.c.toolSchema, s.c.jsonSchema]) expect(plaintext).toContain(needle);
    for (const needle of [s.c.overflow, s.c.engine, s.c.invalid, s.c.abort, s.c.malformed, s.c.large]) expect(plaintext).not.toContain(needle);
    const ciphertexts = rows.map((row) => Buffer.from(row.ciphertext as Uint8Array));

    // Before the window ends nothing goes; after it, every ciphertext is gone from the file, free pages and WAL.
    s.advance(29 * DAY);
    expect((await privacy.purge.run()).payloads_deleted).toBe(0);
    s.advance(2 * DAY);
    const report = await privacy.purge.run();
    expect(report.payloads_deleted).toBe(rows.length);
    expect(report.space?.wal).toBe("truncated");
    expect((h.store.sqlite.query("select count(*) as n from retained_payloads").get() as { n: number }).n).toBe(0);
    const stored = filesUnder(h.dataDir);
    const leftovers = stored.flatMap((file) => ciphertexts.filter((ciphertext) => file.bytes.includes(ciphertext.subarray(0, 24))).map(() => file.path));
    expect(leftovers).toEqual([]);
    expect(occurrences(stored, s.needles)).toEqual([]);
  });
});
