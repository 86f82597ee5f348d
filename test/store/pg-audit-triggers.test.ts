import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { GENESIS_HASH } from "../../src/audit/append-audit";
import { openPgStore, type PgStore } from "../../src/db/pg-client";
import { migratePg } from "../../src/db/pg-migrate";
import { embeddedMigrations } from "../../src/db/pg-migrations";
import { auditLog } from "../../src/db/pg-schema";
import { createPgAuditRepository } from "../../src/store/pg-audit-repository";
import { createPgTestDatabase, reachablePostgres } from "../support/pg-test-database";

const serverUrl = await reachablePostgres();

describe.skipIf(serverUrl == null)("the Postgres audit triggers", () => {
  let database: Awaited<ReturnType<typeof createPgTestDatabase>>;
  let store: PgStore;
  beforeAll(async () => {
    database = await createPgTestDatabase(serverUrl!);
    store = openPgStore(database.url);
    await migratePg(store);
    await createPgAuditRepository(store.db).append({ actor: "cli:ann", action: "key.create", target: "k" }, new Date(0));
  });
  afterAll(async () => {
    await store[Symbol.asyncDispose]();
    await database[Symbol.asyncDispose]();
  });

  /** What the server said: drizzle wraps it, with the SQL, in its own error's cause. */
  const serverError = (query: PromiseLike<unknown>) =>
    Promise.resolve(query).catch((error: Error) => {
      throw error.cause ?? error;
    });
  const entry = (seq: number, prevHash: string) => ({ seq, at: new Date(0), actor: "cli:eve", action: "key.create", target: "k", details: "{}", prevHash, hash: "f".repeat(64) });

  test("Should refuse an entry that skips a seq - a writer without the lock cannot fork or gap the chain", async () => {
    const [head] = await store.db.select().from(auditLog);
    await expect(serverError(store.db.insert(auditLog).values(entry(3, head!.hash)))).rejects.toThrow(/does not extend the chain head/);
  });

  test("Should refuse an entry linked to another hash than the head's - even at the right seq", async () => {
    await expect(serverError(store.db.insert(auditLog).values(entry(2, GENESIS_HASH)))).rejects.toThrow(/does not extend the chain head/);
  });

  test("Should refuse TRUNCATE of the log - append-only holds for statement-level deletes too", async () => {
    await expect(serverError(store.db.execute(sql`truncate audit_log`))).rejects.toThrow(/append-only/);
    expect(await createPgAuditRepository(store.db).verify(null)).toMatchObject({ ok: true, entries: 1 });
  });

  test("Should apply no migration twice - a second migrate is a no-op", async () => {
    expect(await migratePg(store)).toBe(0);
  });

  test("Should apply each migration once when three nodes migrate a fresh database at once", async () => {
    await using fresh = await createPgTestDatabase(serverUrl!);
    const nodes = [openPgStore(fresh.url), openPgStore(fresh.url), openPgStore(fresh.url)];
    try {
      const applied = await Promise.all(nodes.map((node) => migratePg(node)));
      expect(applied.reduce((sum, count) => sum + count, 0)).toBe(embeddedMigrations.length);
    } finally {
      for (const node of nodes) await node[Symbol.asyncDispose]();
    }
  });
});
