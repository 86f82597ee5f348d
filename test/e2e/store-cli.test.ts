/**
 * `enclave store migrate|copy` and the shared-store setting, through the CLI as an operator runs
 * it: plain lines, exit codes, no stack trace and no database password in any output. The
 * Postgres half runs where ENCLAVE_TEST_DATABASE_URL names a server (.ci/postgres.sh).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPgTestDatabase, reachablePostgres } from "../support/pg-test-database";
import { embeddedMigrations as pgMigrations } from "../../src/db/pg-migrations";

const main = join(import.meta.dir, "../../src/main.ts");
const work = mkdtempSync(join(tmpdir(), "enclave-store-cli-"));
const dataDir = join(work, "data");
const config = join(work, "enclave.toml");
writeFileSync(config, `[storage]\ndata_dir = ${JSON.stringify(dataDir)}\n[auth]\npepper = "store-pepper"\n`);
const serverUrl = await reachablePostgres();
const database = serverUrl != null ? await createPgTestDatabase(serverUrl) : null;
afterAll(async () => {
  await database?.[Symbol.asyncDispose]();
});

/** The test database's URL with a password in it, to show that no output ever carries one. */
const withPassword = (url: string) => Object.assign(new URL(url), { password: "s3cret-pw" }).toString();

async function run(args: string[], env: Record<string, string> = {}) {
  const child = Bun.spawn([process.execPath, main, ...args, "--config", config], { cwd: work, stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  expect(`${stdout}${stderr}`).not.toMatch(/\n\s+at |^\s*\d+ \| /m);
  expect(`${stdout}${stderr}`).not.toContain("s3cret-pw");
  return { stdout, stderr, exitCode };
}

describe("enclave store", () => {
  test("Should migrate the SQLite store explicitly and idempotently - a missing store needs --init", async () => {
    expect((await run(["store", "migrate"])).stderr).toContain("run the command again with --init");
    for (const args of [["store", "migrate", "--init"], ["store", "migrate"]]) {
      const result = await run(args);
      expect({ exitCode: result.exitCode, stdout: result.stdout.trim() }).toEqual({ exitCode: 0, stdout: `sqlite ${join(dataDir, "enclave.sqlite")}: schema up to date` });
    }
  });

  test.each([
    [["store", "copy"], 2, "--from sqlite:PATH is required"],
    [["store", "copy", "--from", "sqlite:./data"], 2, "--to postgres://... is required when [storage] database_url is not set"],
    [["store", "copy", "--from", "sqlite:./nowhere", "--to", "postgres://u:s3cret-pw@127.0.0.1:1/x"], 1, "no SQLite store at"],
    [["store", "copy", "--from", "sqlite:./data", "--to", "postgres://u:s3cret-pw@127.0.0.1:1/x"], 1, "postgres postgres://u:***@127.0.0.1:1/x: "],
    [["store", "rename"], 2, "unknown action 'rename'"],
  ])("Should answer %p with one plain line - exit %p", async (args, exitCode, message) => {
    const result = await run(args);
    expect(result.exitCode).toBe(exitCode);
    expect(result.stderr.trimEnd().split("\n")).toEqual([expect.stringContaining(message)]);
  });

  test("Should refuse to serve from a store off this machine while egress is deny - naming the key and host, never the password", async () => {
    const result = await run(["serve"], { ENCLAVE_STORAGE_DATABASE_URL: "postgres://u:s3cret-pw@db.internal/enclave" });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`storage.database_url: the store at 'db.internal' is off this machine, but egress is "deny"`);
  });

  test.skipIf(database == null)("Should refuse to serve on a Postgres store whose schema is behind the binary - naming the command that fixes it", async () => {
    await using empty = await createPgTestDatabase(serverUrl!);
    const result = await run(["serve"], { ENCLAVE_STORAGE_DATABASE_URL: withPassword(empty.url) });
    expect(result.exitCode).toBe(1);
    expect(result.stderr.trimEnd().split("\n").at(-1)).toContain("schema migration(s) not applied; run `enclave store migrate` once for the fleet");
  }, 30_000);

  test.skipIf(database == null)("Should migrate Postgres too, then copy this node's store into it - and verify the copied chain", async () => {
    const env = { ENCLAVE_STORAGE_DATABASE_URL: withPassword(database!.url) };
    expect((await run(["keys", "create", "--name", "moved", "--init"])).exitCode).toBe(0);
    expect((await run(["store", "migrate"], env)).stdout).toContain(`${pgMigrations.length} migration(s) applied`);
    expect((await run(["store", "migrate"], env)).stdout).toContain("0 migration(s) applied, schema up to date");
    const copied = await run(["store", "copy", "--from", `sqlite:${dataDir}`, "--json"], env);
    expect({ exitCode: copied.exitCode, stderr: copied.stderr }).toEqual({ exitCode: 0, stderr: "" });
    const report = JSON.parse(copied.stdout);
    expect(report.rows).toMatchObject({ api_keys: 1, audit_log: 2 });
    const verified = JSON.parse((await run(["audit", "verify", "--json"])).stdout);
    expect(report.audit).toEqual({ entries: verified.entries, head_hash: verified.head_hash });
    const again = await run(["store", "copy", "--from", `sqlite:${join(dataDir, "enclave.sqlite")}`], env);
    expect(again.exitCode).toBe(1);
    expect(again.stderr.trimEnd().split("\n")).toEqual([expect.stringContaining("the target store is not empty: accounts (1), api_keys (1), audit_log (2)")]);
  }, 30_000);
});
