import { describe, expect, test } from "bun:test";
import { cliActor } from "../../../src/accounts/actor";
import { createStoreHealth } from "../../../src/db/store-health";
import { StoreUnavailableError } from "../../../src/errors";
import { createUsageRecorder, type UsageEvent } from "../../../src/metering/usage-recorder";
import { createSqliteUsageRepository } from "../../../src/store/sqlite-usage-repository";
import { tempStore } from "../../support/temp-store";
import { sqliteAccountServices } from "../../support/sqlite-account-services";

async function seeded() {
  const store = tempStore();
  const cli = cliActor("test");
  const { keys, accounts } = sqliteAccountServices(store.db, "p");
  const account = await accounts.ensureDefault(cli);
  const { key } = await keys.create(cli, { name: "k", account_id: account.id });
  let n = 0;
  const event = (): UsageEvent => ({
    id: `req-${++n}`,
    keyId: key.id,
    accountId: account.id,
    endpoint: "POST /v1/chat/completions",
    model: "fake",
    startedAt: new Date(1_800_000_000_000 + n),
    queueMs: 0,
    ttftMs: 1,
    durationMs: 2,
    promptTokens: 3,
    cachedTokens: 0,
    completionTokens: 4,
    draftTokensAccepted: null,
    costMicros: 0,
    status: 200,
    errorCode: null,
    clientIp: null,
  });
  const rows = () => (store.sqlite.query("select count(*) as n from usage_events").get() as { n: number }).n;
  return { store, event, rows };
}

describe("usage recorder on a store that cannot write", () => {
  test("Should mark the store failing on a full disk and keep the row - then write it and recover when space returns", async () => {
    const { store, event, rows } = await seeded();
    using _store = store;
    const health = createStoreHealth({ probeIntervalMs: 50 });
    const recorder = createUsageRecorder({ usage: createSqliteUsageRepository(store.db), health });
    // max_page_count at the current size stands in for a full filesystem: the next new page is SQLITE_FULL.
    const pages = (store.sqlite.query("pragma page_count").get() as { page_count: number }).page_count;
    store.sqlite.exec(`pragma max_page_count = ${pages}`);
    let recorded = 0;
    let failure: unknown;
    for (let i = 0; i < 5000 && failure == null; i++) {
      try {
        await recorder.record(event());
        recorded++;
      } catch (error) {
        failure = error;
      }
    }
    expect((failure as { cause?: { code?: string } })?.cause?.code ?? (failure as { code?: string })?.code).toBe("SQLITE_FULL");
    expect(health.writable()).toBe(false);
    expect(() => health.assertWritable()).toThrow(StoreUnavailableError);

    store.sqlite.exec(`pragma max_page_count = ${pages * 100}`);
    expect(health.writable()).toBe(false); // not until the next probe writes the kept row
    await Bun.sleep(150);
    expect(health.writable()).toBe(true);
    expect(rows()).toBe(recorded + 1);
    await recorder.record(event());
    expect(rows()).toBe(recorded + 2);
  });

  test("Should write kept rows first, in order - on the next record once the store takes writes", async () => {
    const { store, event, rows } = await seeded();
    using _store = store;
    const health = createStoreHealth();
    const recorder = createUsageRecorder({ usage: createSqliteUsageRepository(store.db), health });
    store.sqlite.exec("pragma query_only = 1");
    await expect(recorder.record(event())).rejects.toThrow();
    await expect(recorder.record(event())).rejects.toThrow();
    expect(health.writable()).toBe(false);
    store.sqlite.exec("pragma query_only = 0");
    await recorder.record(event());
    expect(rows()).toBe(3);
    expect(store.sqlite.query("select id from usage_events order by started_at").all()).toEqual([{ id: "req-1" }, { id: "req-2" }, { id: "req-3" }]);
    expect(health.writable()).toBe(true);
  });

  test("Should not fail the store for a row refused for itself - a broken row must not stop serving", async () => {
    const { store, event } = await seeded();
    using _store = store;
    const health = createStoreHealth();
    const recorder = createUsageRecorder({ usage: createSqliteUsageRepository(store.db), health });
    await expect(recorder.record({ ...event(), endpoint: null as unknown as string })).rejects.toThrow();
    expect(health.writable()).toBe(true);
    await recorder.record(event());
  });
});

describe("usage recorder on a working store", () => {
  test("Should charge a request id once - recording it again stores no row and takes no credits", async () => {
    using store = tempStore();
    const cli = cliActor("test");
    const { keys, accounts } = sqliteAccountServices(store.db, "p");
    const account = await accounts.create(cli, { name: "prepaid" });
    await accounts.addCredits(cli, account.id, 1);
    const { key } = await keys.create(cli, { name: "k", account_id: account.id });
    const recorder = createUsageRecorder({ usage: createSqliteUsageRepository(store.db), health: createStoreHealth() });
    const event: UsageEvent = {
      id: "req-same", keyId: key.id, accountId: account.id, endpoint: "POST /v1/chat/completions", model: "fake",
      startedAt: new Date(1_800_000_000_000), queueMs: 0, ttftMs: 1, durationMs: 2, promptTokens: 3, cachedTokens: 0,
      completionTokens: 4, draftTokensAccepted: null, costMicros: 250_000, status: 200, errorCode: null, clientIp: null,
    };
    await recorder.record(event);
    await recorder.record({ ...event, costMicros: 999_999 });
    expect(store.sqlite.query("select count(*) as n, sum(cost_micros) as cost from usage_events").get()).toEqual({ n: 1, cost: 250_000 });
    expect((await accounts.get(cli, account.id)).creditsMicros).toBe(750_000);
  });
});
