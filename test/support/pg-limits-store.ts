import { openPgStore, type PgStore } from "../../src/db/pg-client";
import { migratePg } from "../../src/db/pg-migrate";
import { createPgTestDatabase } from "./pg-test-database";

/** A fresh migrated database, and as many handles on it as a test wants nodes; all closed, and the database dropped, on dispose. */
export async function pgLimitsStore(serverUrl: string) {
  const database = await createPgTestDatabase(serverUrl);
  const handles: PgStore[] = [];
  const open = () => {
    const store = openPgStore(database.url);
    handles.push(store);
    return store;
  };
  await migratePg(open());
  return {
    url: database.url,
    /** Another connection pool on the same database: one more node. */
    node: () => open().db,
    async [Symbol.asyncDispose]() {
      for (const handle of handles) await handle[Symbol.asyncDispose]();
      await database[Symbol.asyncDispose]();
    },
  };
}

/** Polls `check` until it holds (a limiter on the store settles asynchronously); fails after `ms`. */
export async function eventually(check: () => Promise<boolean>, ms = 3_000): Promise<void> {
  const until = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > until) throw new Error(`condition not met within ${ms} ms`);
    await Bun.sleep(5);
  }
}
