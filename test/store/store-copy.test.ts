import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { eq, sql } from "drizzle-orm";
import { cliActor } from "../../src/accounts/actor";
import { openPgStore, type PgStore } from "../../src/db/pg-client";
import { migratePg } from "../../src/db/pg-migrate";
import * as pg from "../../src/db/pg-schema";
import * as lite from "../../src/db/schema";
import type { Store } from "../../src/db/client";
import { SharedStoreError } from "../../src/db/shared-store-error";
import { createStoreHealth } from "../../src/db/store-health";
import { createUsageRecorder } from "../../src/metering/usage-recorder";
import { createSqliteUsageRepository } from "../../src/store/sqlite-usage-repository";
import { copySqliteToPg } from "../../src/store/copy-store";
import { createPgUsageRepository } from "../../src/store/pg-usage-repository";
import { createPgTestDatabase, reachablePostgres } from "../support/pg-test-database";
import { tempStore } from "../support/temp-store";
import { sqliteAccountServices } from "../support/sqlite-account-services";

const serverUrl = await reachablePostgres();
const cli = cliActor("ann");
const NONCE = Buffer.from("000102030405060708090a0b", "hex");
/** Bytes no text encoding would keep: a NUL, high bytes, an invalid UTF-8 sequence. */
const CIPHERTEXT = Buffer.from([0, 255, 128, 0xc3, 0x28, 10, 13, 0, 7]);

/** A one-node install with an account tree, prepaid credits, keys (one revoked), metering and the audit entries all of that wrote. */
async function oneNodeInstall(): Promise<{ store: Store; secret: string; keyId: string }> {
  const store = tempStore("enclave-copy-");
  const { keys, accounts } = sqliteAccountServices(store.db, "pepper");
  const team = await accounts.create(cli, { name: "team" });
  const sub = await accounts.create(cli, { name: "sub", parent_id: team.id });
  await accounts.addCredits(cli, sub.id, 5);
  const { key, secret } = await keys.create(cli, { name: "app", account_id: sub.id });
  await keys.revoke(cli, (await keys.create(cli, { name: "old", account_id: team.id })).key.id);
  const recorder = createUsageRecorder({ usage: createSqliteUsageRepository(store.db), health: createStoreHealth() });
  for (let i = 0; i < 1_200; i++)
    await recorder.record({
      id: `req_${i}`, keyId: key.id, accountId: sub.id, endpoint: "POST /v1/chat/completions", model: "tiny",
      startedAt: new Date(1_800_000_000_000 + i), queueMs: 0, ttftMs: 1, durationMs: 2, promptTokens: 3, cachedTokens: 1,
      completionTokens: 4, draftTokensAccepted: null, costMicros: 10, status: 200, errorCode: null, clientIp: null,
    });
  store.db.insert(lite.retainedPayloads).values({
    id: "pl_1", requestId: "req_0", mode: "full", basis: "policy", purposes: [], kind: "generation", model: "tiny",
    accountId: sub.id, keyId: key.id, consentId: null, createdAt: new Date(0), expiresAt: new Date(86_400_000),
    keyFingerprint: "fp", nonce: NONCE, ciphertext: CIPHERTEXT,
  }).run();
  return { store, secret, keyId: key.id };
}

describe.skipIf(serverUrl == null)("enclave store copy: SQLite -> Postgres", () => {
  let database: Awaited<ReturnType<typeof createPgTestDatabase>>;
  let target: PgStore;
  beforeEach(async () => {
    database = await createPgTestDatabase(serverUrl!);
    target = openPgStore(database.url);
    await migratePg(target);
  });
  afterEach(async () => {
    await target[Symbol.asyncDispose]();
    await database[Symbol.asyncDispose]();
  });

  test("Should copy every key, account, usage row and audit entry - and the copied chain verifies with the source's head", async () => {
    const { store, keyId } = await oneNodeInstall();
    using _ = store;
    const report = await copySqliteToPg(store, target);
    expect(report.rows).toMatchObject({ accounts: 2, api_keys: 2, usage_events: 1_200, audit_log: 6, retained_payloads: 1 });
    expect(report.audit.entries).toBe(6);
    const [sub] = await target.db.select().from(pg.accounts).where(eq(pg.accounts.name, "sub"));
    // 5.00 of credits less 1,200 requests at 10 micros.
    expect(sub!.creditsMicros).toBe(5_000_000 - 12_000);
    const [copiedKey] = await target.db.select().from(pg.apiKeys).where(eq(pg.apiKeys.id, keyId));
    const sourceKey = store.sqlite.query("select key_hash, models from api_keys where id = ?").get(keyId) as { key_hash: string };
    expect(copiedKey!.keyHash).toBe(sourceKey.key_hash);
    const [payload] = await target.db.select().from(pg.retainedPayloads);
    expect({ nonce: payload!.nonce.toString("hex"), ciphertext: payload!.ciphertext.toString("hex"), purposes: payload!.purposes }).toEqual({
      nonce: NONCE.toString("hex"),
      ciphertext: CIPHERTEXT.toString("hex"),
      purposes: [],
    });
    expect(await createPgUsageRepository(target.db).totalsByKey([keyId])).toEqual(new Map([[keyId, { requests: 1_200, promptTokens: 3_600, completionTokens: 4_800, costMicros: 12_000 }]]));
  });

  test("Should copy a store that holds no rows yet - an install moved before its first key", async () => {
    using store = tempStore("enclave-copy-empty-");
    const report = await copySqliteToPg(store, target);
    expect(Object.values(report.rows).every((rows) => rows === 0)).toBe(true);
    expect(report.audit.entries).toBe(0);
  });

  test("Should refuse a target that already holds rows - and copy nothing", async () => {
    const { store } = await oneNodeInstall();
    using _ = store;
    await copySqliteToPg(store, target);
    await expect(copySqliteToPg(store, target)).rejects.toThrow(SharedStoreError);
    const [row] = await target.db.select({ n: sql<number>`count(*)::int` }).from(pg.usageEvents);
    expect(row!.n).toBe(1_200);
  });

  test("Should refuse a source whose audit chain does not verify - naming the problem, copying nothing", async () => {
    const { store } = await oneNodeInstall();
    using _ = store;
    store.sqlite.run("drop trigger audit_log_no_update");
    store.sqlite.run("update audit_log set actor = 'cli:eve' where seq = 2");
    await expect(copySqliteToPg(store, target)).rejects.toThrow(/source audit chain does not verify.*seq 2/);
    const [row] = await target.db.select({ n: sql<number>`count(*)::int` }).from(pg.accounts);
    expect(row!.n).toBe(0);
  });
});
