import type { Store } from "../db/client";
import type { PgDb } from "../db/pg-client";
import type { AccountRepository } from "./account-repository";
import type { AuditRepository } from "./audit-repository";
import type { ConsentRepository } from "./consent-repository";
import type { KeyRepository } from "./key-repository";
import type { PayloadRepository } from "./payload-repository";
import { createPgAccountRepository } from "./pg-account-repository";
import { createPgAuditRepository } from "./pg-audit-repository";
import { createPgConsentRepository } from "./pg-consent-repository";
import { createPgKeyRepository } from "./pg-key-repository";
import { createPgPayloadRepository } from "./pg-payload-repository";
import { createPgSubjectRepository } from "./pg-subject-repository";
import { createPgUsageRepository } from "./pg-usage-repository";
import { createSqliteAccountRepository } from "./sqlite-account-repository";
import { createSqliteAuditRepository } from "./sqlite-audit-repository";
import { createSqliteConsentRepository } from "./sqlite-consent-repository";
import { createSqliteKeyRepository } from "./sqlite-key-repository";
import { createSqlitePayloadRepository } from "./sqlite-payload-repository";
import { createSqliteSubjectRepository } from "./sqlite-subject-repository";
import { createSqliteUsageRepository } from "./sqlite-usage-repository";
import type { SubjectRepository } from "./subject-repository";
import type { UsageRepository } from "./usage-repository";

/** Every aggregate of the store, on one backend: what the services are built over. */
export interface StoreRepositories {
  keys: KeyRepository;
  accounts: AccountRepository;
  usage: UsageRepository;
  audit: AuditRepository;
  consents: ConsentRepository;
  payloads: PayloadRepository;
  subjects: SubjectRepository;
}

/** The aggregates on the embedded SQLite store. */
export function sqliteRepositories(store: Pick<Store, "db" | "sqlite">): StoreRepositories {
  const { db, sqlite } = store;
  return {
    keys: createSqliteKeyRepository(db),
    accounts: createSqliteAccountRepository(db),
    usage: createSqliteUsageRepository(db),
    audit: createSqliteAuditRepository(db),
    consents: createSqliteConsentRepository(db, sqlite),
    payloads: createSqlitePayloadRepository(db, sqlite),
    subjects: createSqliteSubjectRepository(db, sqlite),
  };
}

/** The aggregates on the Postgres store a fleet shares. */
export function pgRepositories(db: PgDb): StoreRepositories {
  return {
    keys: createPgKeyRepository(db),
    accounts: createPgAccountRepository(db),
    usage: createPgUsageRepository(db),
    audit: createPgAuditRepository(db),
    consents: createPgConsentRepository(db),
    payloads: createPgPayloadRepository(db),
    subjects: createPgSubjectRepository(db),
  };
}
