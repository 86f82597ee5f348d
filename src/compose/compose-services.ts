import { createAccountService } from "../accounts/account-service";
import { createKeyService } from "../auth/key-service";
import type { Config } from "../config/schema";
import type { Store } from "../db/client";
import { createAdmission } from "../limits/admission";
import type { Logger } from "../logging/logger";
import { createPricing } from "../metering/pricing";
import { createUsageRecorder } from "../metering/usage-recorder";
import { createPrivacy, type Privacy } from "../privacy/create-privacy";
import { effectiveRegions } from "../residency/residency-violations";
import { createSqliteAccountRepository } from "../store/sqlite-account-repository";
import { createSqliteAuditRepository } from "../store/sqlite-audit-repository";
import { createSqliteKeyRepository } from "../store/sqlite-key-repository";
import { createSqliteConsentRepository } from "../store/sqlite-consent-repository";
import { createSqlitePayloadRepository } from "../store/sqlite-payload-repository";
import { createSqliteSubjectRepository } from "../store/sqlite-subject-repository";
import { createSqliteUsageRepository } from "../store/sqlite-usage-repository";

export interface ServicesDeps {
  config: Readonly<Config>;
  store: Store;
  logger: Logger;
  now?: () => number;
  /** Each retention purge run (scheduled or on demand, dry runs aside) with the rows it removed: the server's purge metrics. */
  onPurged?: (rowsRemoved: number) => void;
}

/**
 * The services over one store, built once for the server and for the CLI alike: keys, accounts,
 * pricing, admission, metering and privacy. Privacy (which reads the retention key and owns the
 * one purge job) is built on first use, so a command that never touches payloads does not need
 * a readable key; its RetentionKeyError surfaces where it is first used.
 */
export function composeServices(deps: ServicesDeps) {
  const { config, store, logger, now } = deps;
  const db = store.db;
  // A key's or account's allowed_regions may only narrow what [residency] allows.
  const installationRegions = effectiveRegions(config.residency);
  const pricing = createPricing(config.pricing);
  let privacy: Privacy | undefined;
  const usage = createSqliteUsageRepository(db);
  const accountRepository = createSqliteAccountRepository(db);
  return {
    store,
    keys: createKeyService({ keys: createSqliteKeyRepository(db), accounts: accountRepository, pepper: config.auth.pepper, now, installationRegions, limits: config.limits }),
    accounts: createAccountService({ accounts: accountRepository, now, installationRegions, limits: config.limits }),
    pricing,
    /** The aggregates already behind repositories (Promise-returning, either backend). */
    audit: createSqliteAuditRepository(db),
    usage,
    admission: createAdmission({ limits: config.limits, currency: pricing.currency, accounts: accountRepository, usage, now }),
    // A usage row not written marks the store failing: the gate then refuses new inference.
    recorder: createUsageRecorder({ usage, health: store.health }),
    /** Payloads are kept only where [retention] or an account's consent allows it, and only encrypted. */
    get privacy(): Privacy {
      return (privacy ??= createPrivacy({
        consents: createSqliteConsentRepository(db, store.sqlite),
        payloads: createSqlitePayloadRepository(db, store.sqlite),
        subjects: createSqliteSubjectRepository(db, store.sqlite),
        retention: config.retention,
        logger,
        now,
        onPurged: deps.onPurged,
      }));
    },
  };
}

export type Services = ReturnType<typeof composeServices>;
