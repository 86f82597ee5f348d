import { createHash } from "node:crypto";
import type { MigrationMeta } from "drizzle-orm/migrator";
import type { Store } from "./client";
import { embeddedMigrations } from "./migrations";

/**
 * Applies the migrations embedded in the binary, the way drizzle's file migrator would (same
 * statement split and hash), so a store migrated by either stays compatible. Idempotent.
 */
export function migrate(store: Store): void {
  const migrations: MigrationMeta[] = embeddedMigrations.map((migration) => ({
    sql: migration.sql.split("--> statement-breakpoint"),
    bps: migration.breakpoints,
    folderMillis: migration.when,
    hash: createHash("sha256").update(migration.sql).digest("hex"),
  }));
  // drizzle's own file migrator makes this same call; dialect and session are typed @internal.
  const internals = store.db as unknown as { dialect: { migrate(m: MigrationMeta[], session: unknown, config: object): void }; session: unknown };
  internals.dialect.migrate(migrations, internals.session, {});
}
