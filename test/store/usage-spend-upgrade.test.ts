/**
 * The upgrade that adds usage_spend fills it from what was metered before, request rows and
 * roll-ups alike, so no key's or account's budget starts over when the binary is replaced. Runs
 * the migrations before it by hand, writes the old tables, then lets each backend's migrator
 * apply the rest, as an upgraded node does.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { openStore } from "../../src/db/client";
import { migrate } from "../../src/db/migrate";
import { embeddedMigrations as sqliteMigrations } from "../../src/db/migrations";
import { openPgStore } from "../../src/db/pg-client";
import { migratePg } from "../../src/db/pg-migrate";
import { embeddedMigrations as pgMigrations } from "../../src/db/pg-migrations";
import { createPgUsageRepository } from "../../src/store/pg-usage-repository";
import { createSqliteUsageRepository } from "../../src/store/sqlite-usage-repository";
import { createPgTestDatabase, reachablePostgres } from "../support/pg-test-database";

const DAY = Date.UTC(2027, 2, 1);
const serverUrl = await reachablePostgres();
const statements = (migration: { sql: string }) => migration.sql.split("--> statement-breakpoint").filter((statement) => statement.trim() !== "");
const before = <T extends { tag: string }>(migrations: T[]) => migrations.slice(0, migrations.findIndex((migration) => migration.tag.endsWith("_usage_spend")));

/** An event of the old schema: `minutes` after DAY's midnight, 10 prompt + 5 completion tokens. */
const event = (id: string, keyId: string, accountId: string, minutes: number, cost: number) => ({ id, keyId, accountId, minutes, cost });
const EVENTS = [event("r1", "key_a", "acct_a", 60, 100), event("r2", "key_a", "acct_a", 60 * 24 + 5, 30), event("r3", "key_b", "acct_b", 1, 7)];

describe("the usage_spend upgrade", () => {
  const dir = mkdtempSync(join(tmpdir(), "enclave-spend-upgrade-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("Should fill each key's spend from request rows and roll-ups on SQLite", async () => {
    const store = openStore(dir);
    store.sqlite.run(`CREATE TABLE "__drizzle_migrations" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)`);
    for (const migration of before(sqliteMigrations)) {
      for (const statement of statements(migration)) store.sqlite.run(statement);
      store.sqlite.run(`INSERT INTO "__drizzle_migrations" ("hash", "created_at") VALUES (?, ?)`, [new Bun.CryptoHasher("sha256").update(migration.sql).digest("hex"), migration.when]);
    }
    for (const { id, keyId, accountId, minutes, cost } of EVENTS)
      store.sqlite.run(
        `INSERT INTO usage_events (id, key_id, account_id, endpoint, started_at, queue_ms, duration_ms, prompt_tokens, completion_tokens, cost_micros, status) VALUES (?, ?, ?, 'POST /v1/completions', ?, 0, 1, 10, 5, ?, 200)`,
        [id, keyId, accountId, DAY + minutes * 60_000, cost],
      );
    store.sqlite.run(`INSERT INTO usage_daily VALUES ('2027-02-28', 'acct_a', 'key_a', 'POST /v1/completions', '', 3, 0, 30, 15, 0, 400)`);
    migrate(store);
    const usage = createSqliteUsageRepository(store.db);
    expect(await usage.spent({ keyIds: ["key_a"] })).toEqual({ tokens: 75, costMicros: 530 });
    expect(await usage.spent({ keyIds: ["key_a"], since: DAY })).toEqual({ tokens: 30, costMicros: 130 });
    expect(await usage.spent({ accountIds: ["acct_a", "acct_b"], since: DAY + 86_400_000 })).toEqual({ tokens: 15, costMicros: 30 });
    store[Symbol.dispose]();
  });

  test.skipIf(serverUrl == null)("Should fill each key's spend from request rows and roll-ups on Postgres", async () => {
    await using database = await createPgTestDatabase(serverUrl!);
    await using store = openPgStore(database.url);
    await store.db.execute(sql`create schema drizzle`);
    await store.db.execute(sql`create table drizzle.__drizzle_migrations (id serial primary key, hash text not null, created_at bigint)`);
    for (const migration of before(pgMigrations)) {
      for (const statement of statements(migration)) await store.db.execute(sql.raw(statement));
      await store.db.execute(sql`insert into drizzle.__drizzle_migrations (hash, created_at) values (${new Bun.CryptoHasher("sha256").update(migration.sql).digest("hex")}, ${migration.when})`);
    }
    for (const { id, keyId, accountId, minutes, cost } of EVENTS)
      await store.db.execute(
        sql`insert into usage_events (id, key_id, account_id, endpoint, started_at, queue_ms, duration_ms, prompt_tokens, completion_tokens, cost_micros, status)
            values (${id}, ${keyId}, ${accountId}, 'POST /v1/completions', ${new Date(DAY + minutes * 60_000).toISOString()}, 0, 1, 10, 5, ${cost}, 200)`,
      );
    await store.db.execute(sql`insert into usage_daily values ('2027-02-28', 'acct_a', 'key_a', 'POST /v1/completions', '', 3, 0, 30, 15, 0, 400)`);
    expect(await migratePg(store)).toBe(pgMigrations.length - before(pgMigrations).length);
    const usage = createPgUsageRepository(store.db);
    expect(await usage.spent({ keyIds: ["key_a"] })).toEqual({ tokens: 75, costMicros: 530 });
    expect(await usage.spent({ keyIds: ["key_a"], since: DAY })).toEqual({ tokens: 30, costMicros: 130 });
    expect(await usage.spent({ accountIds: ["acct_a", "acct_b"], since: DAY + 86_400_000 })).toEqual({ tokens: 15, costMicros: 30 });
  });
});
