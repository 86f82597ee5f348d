import { createHash } from "node:crypto";
import type { Store } from "./client";
import { embeddedMigrations } from "./migrations";
import { writeWithRetry } from "./write-with-retry";

const MIGRATIONS_TABLE = "__drizzle_migrations";

/**
 * Applies the migrations embedded in the binary the way drizzle's file migrator would (same table,
 * statement split, hash and "newer than the last applied" rule), so a store migrated by either
 * stays compatible. Idempotent. Unlike drizzle's, it reads what is applied inside an immediate
 * transaction: two processes opening a fresh store at once (a server and a CLI command) cannot
 * both decide to apply the same migration.
 */
export function migrate(store: Pick<Store, "sqlite">, deadlineMs = 5000): void {
  const { sqlite } = store;
  writeWithRetry(
    () =>
      sqlite
        .transaction(() => {
          sqlite.run(`CREATE TABLE IF NOT EXISTS "${MIGRATIONS_TABLE}" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)`);
          const last = sqlite.query(`SELECT created_at FROM "${MIGRATIONS_TABLE}" ORDER BY created_at DESC LIMIT 1`).get() as { created_at: number | string } | null;
          for (const migration of embeddedMigrations) {
            if (last != null && Number(last.created_at) >= migration.when) continue;
            for (const statement of migration.sql.split("--> statement-breakpoint")) sqlite.run(statement);
            const hash = createHash("sha256").update(migration.sql).digest("hex");
            sqlite.run(`INSERT INTO "${MIGRATIONS_TABLE}" ("hash", "created_at") VALUES (?, ?)`, [hash, migration.when]);
          }
        })
        .immediate(),
    deadlineMs,
  );
}
