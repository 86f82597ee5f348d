/**
 * Lists (a key's models, IPs and regions, an account's regions, consent purposes) are jsonb arrays
 * in Postgres, so SQL can query them; rows an earlier release wrote as a JSON string of the list
 * become arrays when the migration runs.
 */
import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { openPgStore } from "../../src/db/pg-client";
import { migratePg } from "../../src/db/pg-migrate";
import { embeddedMigrations } from "../../src/db/pg-migrations";
import * as pg from "../../src/db/pg-schema";
import { createPgTestDatabase, reachablePostgres } from "../support/pg-test-database";

const serverUrl = await reachablePostgres();
const statements = (migration: { sql: string }) => migration.sql.split("--> statement-breakpoint").filter((statement) => statement.trim() !== "");
const at = new Date(0);

describe.skipIf(serverUrl == null)("list columns on Postgres", () => {
  test("Should store a list as a jsonb array - queryable with @>", async () => {
    await using database = await createPgTestDatabase(serverUrl!);
    await using store = openPgStore(database.url);
    await migratePg(store);
    await store.db.insert(pg.accounts).values({ id: "acct", name: "acct", allowedRegions: ["eu-1", "eu-2"], createdAt: at, updatedAt: at });
    const [row] = await store.db.execute<{ kind: string; eu: boolean }>(sql`select jsonb_typeof(allowed_regions) as kind, allowed_regions @> '["eu-2"]'::jsonb as eu from accounts`);
    expect(row).toEqual({ kind: "array", eu: true });
    expect((await store.db.select().from(pg.accounts))[0]?.allowedRegions).toEqual(["eu-1", "eu-2"]);
  });

  test("Should turn lists an earlier release stored as JSON strings into arrays when migrating", async () => {
    await using database = await createPgTestDatabase(serverUrl!);
    await using store = openPgStore(database.url);
    await store.db.execute(sql`create schema drizzle`);
    await store.db.execute(sql`create table drizzle.__drizzle_migrations (id serial primary key, hash text not null, created_at bigint)`);
    for (const migration of embeddedMigrations.slice(0, embeddedMigrations.findIndex((migration) => migration.tag.endsWith("_list_columns_as_arrays")))) {
      for (const statement of statements(migration)) await store.db.execute(sql.raw(statement));
      await store.db.execute(sql`insert into drizzle.__drizzle_migrations (hash, created_at) values (${new Bun.CryptoHasher("sha256").update(migration.sql).digest("hex")}, ${migration.when})`);
    }
    await store.db.execute(sql`insert into accounts (id, name, allowed_regions, created_at, updated_at) values ('acct', 'acct', to_jsonb('["eu-1"]'::text), now(), now())`);
    await store.db.execute(sql`insert into accounts (id, name, allowed_regions, created_at, updated_at) values ('free', 'free', null, now(), now())`);
    expect(await migratePg(store)).toBe(1);
    const rows = await store.db.execute<{ id: string; kind: string | null }>(sql`select id, jsonb_typeof(allowed_regions) as kind from accounts order by id`);
    expect(rows.map((row) => ({ ...row }))).toEqual([
      { id: "acct", kind: "array" },
      { id: "free", kind: null },
    ]);
    expect((await store.db.select().from(pg.accounts).where(sql`id = 'acct'`))[0]?.allowedRegions).toEqual(["eu-1"]);
  });
});
