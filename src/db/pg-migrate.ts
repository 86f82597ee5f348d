import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import type { PgStore } from "./pg-client";
import { embeddedMigrations } from "./pg-migrations";

/** Any fixed bigint (a literal: a JS number would lose digits); every node migrating the same database takes the same lock. */
const MIGRATION_LOCK = sql.raw("7305676930138464001");

/**
 * Applies the Postgres migrations embedded in the binary into drizzle's own bookkeeping table
 * (drizzle.__drizzle_migrations, same hash and "newer than the last applied" rule), in one
 * transaction under an advisory lock: nodes of a fleet starting together apply each migration
 * once, and a failed migration leaves nothing half-applied. Idempotent. Returns how many it applied.
 */
export async function migratePg(store: PgStore): Promise<number> {
  return store.db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${MIGRATION_LOCK})`);
    await tx.execute(sql`create schema if not exists drizzle`);
    await tx.execute(sql`create table if not exists drizzle.__drizzle_migrations (id serial primary key, hash text not null, created_at bigint)`);
    const [last] = await tx.execute<{ created_at: string | number }>(
      sql`select created_at from drizzle.__drizzle_migrations order by created_at desc limit 1`,
    );
    let applied = 0;
    for (const migration of embeddedMigrations) {
      if (last != null && Number(last.created_at) >= migration.when) continue;
      for (const statement of migration.sql.split("--> statement-breakpoint")) if (statement.trim() !== "") await tx.execute(sql.raw(statement));
      const hash = createHash("sha256").update(migration.sql).digest("hex");
      await tx.execute(sql`insert into drizzle.__drizzle_migrations (hash, created_at) values (${hash}, ${migration.when})`);
      applied++;
    }
    return applied;
  });
}

/** How the store's schema compares with this binary's migrations. */
export interface PgSchemaState {
  /** Embedded migrations the store has not applied yet. */
  behind: number;
  /** Whether the store holds a migration newer than any this binary knows (a newer binary migrated it). */
  ahead: boolean;
}

/** Reads, without changing anything, whether `migratePg` would apply migrations and whether the store is newer than this binary. */
export async function pgSchemaState(store: PgStore): Promise<PgSchemaState> {
  const [table] = await store.db.execute<{ present: boolean }>(sql`select to_regclass('drizzle.__drizzle_migrations') is not null as present`);
  if (table?.present !== true) return { behind: embeddedMigrations.length, ahead: false };
  const [last] = await store.db.execute<{ created_at: string | number }>(sql`select created_at from drizzle.__drizzle_migrations order by created_at desc limit 1`);
  const applied = last == null ? -Infinity : Number(last.created_at);
  return {
    behind: embeddedMigrations.filter((migration) => migration.when > applied).length,
    ahead: embeddedMigrations.every((migration) => migration.when < applied),
  };
}
