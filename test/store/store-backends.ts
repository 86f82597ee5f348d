import { sql } from "drizzle-orm";
import { openStore } from "../../src/db/client";
import { migrate } from "../../src/db/migrate";
import { openPgStore } from "../../src/db/pg-client";
import { migratePg } from "../../src/db/pg-migrate";
import * as pg from "../../src/db/pg-schema";
import * as lite from "../../src/db/schema";
import type { AccountRepository } from "../../src/store/account-repository";
import type { AuditRepository } from "../../src/store/audit-repository";
import type { KeyRepository } from "../../src/store/key-repository";
import { createPgAccountRepository } from "../../src/store/pg-account-repository";
import { createPgAuditRepository } from "../../src/store/pg-audit-repository";
import { createPgKeyRepository } from "../../src/store/pg-key-repository";
import type { ConsentRepository } from "../../src/store/consent-repository";
import type { PayloadRepository } from "../../src/store/payload-repository";
import { createPgConsentRepository } from "../../src/store/pg-consent-repository";
import { createPgPayloadRepository } from "../../src/store/pg-payload-repository";
import { createPgSubjectRepository } from "../../src/store/pg-subject-repository";
import { createPgUsageRepository } from "../../src/store/pg-usage-repository";
import { createSqliteAccountRepository } from "../../src/store/sqlite-account-repository";
import { createSqliteAuditRepository } from "../../src/store/sqlite-audit-repository";
import { createSqliteKeyRepository } from "../../src/store/sqlite-key-repository";
import { createSqliteConsentRepository } from "../../src/store/sqlite-consent-repository";
import { createSqlitePayloadRepository } from "../../src/store/sqlite-payload-repository";
import { createSqliteSubjectRepository } from "../../src/store/sqlite-subject-repository";
import type { SubjectRepository } from "../../src/store/subject-repository";
import { createSqliteUsageRepository } from "../../src/store/sqlite-usage-repository";
import type { UsageRepository } from "../../src/store/usage-repository";
import { createPgTestDatabase, reachablePostgres } from "../support/pg-test-database";
import { tempStore } from "../support/temp-store";

export interface Node {
  audit: AuditRepository;
  usage: UsageRepository;
  accounts: AccountRepository;
  keys: KeyRepository;
  consents: ConsentRepository;
  payloads: PayloadRepository;
  subjects: SubjectRepository;
}

/** The columns a test may set on a seeded account. */
export interface SeedAccount {
  id: string;
  creditsMicros?: number | null;
  parentId?: string | null;
  deletedAt?: Date | null;
}

/** One backend under the repository contract, with what a test needs to arrange and inspect rows below the repositories. */
export interface StoreBackend extends Node, AsyncDisposable {
  /** A second handle on the same store, as another node (or the CLI beside the server) has. */
  otherNode(): Node;
  seedAccount(row: SeedAccount): Promise<void>;
  seedKey(row: { id: string; accountId: string }): Promise<void>;
  seedDaily(row: typeof lite.usageDaily.$inferInsert): Promise<void>;
  credits(accountId: string): Promise<number | null>;
  lastUsedAt(keyId: string): Promise<Date | null>;
  /** Runs a statement straight on the database, as a tamperer with write access would. */
  exec(statement: string): Promise<void>;
  /** How many rows `table` holds. */
  count(table: "consents" | "retention_overrides" | "retained_payloads" | "usage_events" | "usage_daily" | "audit_log" | "audit_checkpoints"): Promise<number>;
}

const accountRow = ({ id, creditsMicros = null, parentId = null, deletedAt = null }: SeedAccount) => ({
  id,
  name: id,
  creditsMicros,
  parentId,
  deletedAt,
  createdAt: new Date(0),
  updatedAt: new Date(0),
});
const keyRow = (id: string, accountId: string) => ({
  id,
  accountId,
  name: id,
  role: "user" as const,
  lookup: id,
  keyHash: `hash-${id}`,
  createdAt: new Date(0),
  updatedAt: new Date(0),
});

const sqliteNode = ({ db, sqlite }: Pick<ReturnType<typeof openStore>, "db" | "sqlite">): Node => ({
  audit: createSqliteAuditRepository(db),
  usage: createSqliteUsageRepository(db),
  consents: createSqliteConsentRepository(db, sqlite),
  payloads: createSqlitePayloadRepository(db, sqlite),
  subjects: createSqliteSubjectRepository(db, sqlite),
  accounts: createSqliteAccountRepository(db),
  keys: createSqliteKeyRepository(db),
});

const pgNode = (db: ReturnType<typeof openPgStore>["db"]): Node => ({
  audit: createPgAuditRepository(db),
  usage: createPgUsageRepository(db),
  consents: createPgConsentRepository(db),
  payloads: createPgPayloadRepository(db),
  subjects: createPgSubjectRepository(db),
  accounts: createPgAccountRepository(db),
  keys: createPgKeyRepository(db),
});

export function sqliteBackend(): StoreBackend {
  const store = tempStore("enclave-contract-");
  const { db } = store;
  const dir = store.path.slice(0, store.path.lastIndexOf("/"));
  const others: ReturnType<typeof openStore>[] = [];
  return {
    ...sqliteNode(store),
    otherNode() {
      const other = openStore(dir);
      migrate(other);
      others.push(other);
      return sqliteNode(other);
    },
    async seedAccount(row) {
      db.insert(lite.accounts).values(accountRow(row)).run();
    },
    async seedKey({ id, accountId }) {
      db.insert(lite.apiKeys).values(keyRow(id, accountId)).run();
    },
    async seedDaily(row) {
      db.insert(lite.usageDaily).values(row).run();
    },
    async credits(accountId) {
      return db.select({ c: lite.accounts.creditsMicros }).from(lite.accounts).where(sql`id = ${accountId}`).get()?.c ?? null;
    },
    async lastUsedAt(keyId) {
      return db.select({ at: lite.apiKeys.lastUsedAt }).from(lite.apiKeys).where(sql`id = ${keyId}`).get()?.at ?? null;
    },
    async exec(statement) {
      store.sqlite.run(statement);
    },
    async count(table) {
      return (store.sqlite.query(`select count(*) as n from ${table}`).get() as { n: number }).n;
    },
    async [Symbol.asyncDispose]() {
      for (const other of others) other[Symbol.dispose]();
      store[Symbol.dispose]();
    },
  };
}

export async function postgresBackend(serverUrl: string): Promise<StoreBackend> {
  const database = await createPgTestDatabase(serverUrl);
  const store = openPgStore(database.url);
  await migratePg(store);
  const { db } = store;
  const others: ReturnType<typeof openPgStore>[] = [];
  return {
    ...pgNode(db),
    otherNode() {
      const other = openPgStore(database.url);
      others.push(other);
      return pgNode(other.db);
    },
    async seedAccount(row) {
      await db.insert(pg.accounts).values(accountRow(row));
    },
    async seedKey({ id, accountId }) {
      await db.insert(pg.apiKeys).values(keyRow(id, accountId));
    },
    async seedDaily(row) {
      await db.insert(pg.usageDaily).values(row);
    },
    async credits(accountId) {
      const [row] = await db.select({ c: pg.accounts.creditsMicros }).from(pg.accounts).where(sql`id = ${accountId}`);
      return row?.c ?? null;
    },
    async lastUsedAt(keyId) {
      const [row] = await db.select({ at: pg.apiKeys.lastUsedAt }).from(pg.apiKeys).where(sql`id = ${keyId}`);
      return row?.at ?? null;
    },
    async exec(statement) {
      await db.execute(sql.raw(statement));
    },
    async count(table) {
      const [row] = await db.execute<{ n: string }>(sql.raw(`select count(*) as n from ${table}`));
      return Number(row?.n ?? 0);
    },
    async [Symbol.asyncDispose]() {
      for (const other of others) await other[Symbol.asyncDispose]();
      await store[Symbol.asyncDispose]();
      await database[Symbol.asyncDispose]();
    },
  };
}

/** Every backend the contract runs on here: SQLite always, Postgres when a server answers (always in CI). */
export async function storeBackends(): Promise<{ name: string; open: () => Promise<StoreBackend> }[]> {
  const serverUrl = await reachablePostgres();
  return [
    { name: "sqlite", open: async () => sqliteBackend() },
    ...(serverUrl != null ? [{ name: "postgres", open: () => postgresBackend(serverUrl) }] : []),
  ];
}
