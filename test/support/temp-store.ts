import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore, type Store } from "../../src/db/client";
import { migrate } from "../../src/db/migrate";

/** A migrated store in a fresh temp dir; disposing it closes the store and removes the dir. */
export function tempStore(prefix = "enclave-store-"): Store {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const store = openStore(dir);
  migrate(store);
  return Object.assign(store, {
    [Symbol.dispose]() {
      store.sqlite.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}
