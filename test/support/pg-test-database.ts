import { SQL } from "bun";

const inCi = process.env.CI === "true" || process.env.CI === "1";

/**
 * The server the Postgres tests use (ENCLAVE_TEST_DATABASE_URL, which .ci/postgres.sh exports), or
 * null when none is configured. A configured server that does not answer fails the tests, and so
 * does none configured under CI=true: a backend skipped there would pass silently.
 */
export async function reachablePostgres(): Promise<string | null> {
  const url = process.env.ENCLAVE_TEST_DATABASE_URL;
  if (url == null) {
    if (inCi) throw new Error("CI=true but ENCLAVE_TEST_DATABASE_URL is not set: no Postgres for the store tests (.ci/postgres.sh starts one)");
    console.warn("skipping the Postgres backend of the store tests: ENCLAVE_TEST_DATABASE_URL is not set");
    return null;
  }
  const why = await unreachable(url);
  if (why != null) throw new Error(`ENCLAVE_TEST_DATABASE_URL is set but ${why}`);
  return url;
}

async function unreachable(url: string): Promise<string | null> {
  const client = new SQL({ url, max: 1, connectionTimeout: 3 });
  try {
    await client`select 1`;
    return null;
  } catch (error) {
    return `${new URL(url).host} does not answer (${(error as Error).message})`;
  } finally {
    await client.close();
  }
}

/** A fresh, empty database on that server, dropped (with whatever still connects to it) on dispose. */
export async function createPgTestDatabase(serverUrl: string): Promise<{ url: string } & AsyncDisposable> {
  const name = `enclave_t_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = new SQL({ url: serverUrl, max: 1 });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async [Symbol.asyncDispose]() {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.close();
    },
  };
}
