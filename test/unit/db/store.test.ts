import { describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../../../src/db/client";
import { migrate } from "../../../src/db/migrate";
import { embeddedMigrations } from "../../../src/db/migrations";

describe("store", () => {
  test("Should apply the embedded migrations to a fresh file - and again without change", () => {
    using store = openStore(mkdtempSync(join(tmpdir(), "enclave-store-")));
    migrate(store);
    const tables = () => store.sqlite.query("select name from sqlite_master where type = 'table' order by name").all();
    const applied = () => store.sqlite.query("select count(*) as n from __drizzle_migrations").get() as { n: number };
    const before = tables();
    expect(applied().n).toBe(embeddedMigrations.length);
    migrate(store);
    expect(tables()).toEqual(before);
    expect(applied().n).toBe(embeddedMigrations.length);
    expect(before).toContainEqual({ name: "instance" });
  });

  test("Should open in WAL mode with foreign keys, a busy timeout and secure delete", () => {
    using store = openStore(mkdtempSync(join(tmpdir(), "enclave-store-")));
    const pragma = (name: string) => Object.values(store.sqlite.query(`pragma ${name}`).get() as object)[0];
    expect(pragma("journal_mode")).toBe("wal");
    expect(pragma("foreign_keys")).toBe(1);
    expect(pragma("busy_timeout")).toBe(5000);
    expect(pragma("secure_delete")).toBe(1);
  });

  test("Should embed every migration drizzle-kit generated - none is read from disk at run time", async () => {
    const journal = await Bun.file(join(import.meta.dir, "../../../src/db/migrations/meta/_journal.json")).json();
    expect(embeddedMigrations.map((migration) => migration.tag)).toEqual(journal.entries.map((entry: { tag: string }) => entry.tag));
  });
});
