import { createAccountService } from "../accounts/account-service";
import { createKeyService } from "../auth/key-service";
import type { Config } from "../config/schema";
import { createAdmission, type Admission } from "../limits/admission";
import { createPgConcurrencyLimiter } from "../limits/pg-concurrency-limiter";
import { createPgRateWindows } from "../limits/pg-rate-windows";
import type { Logger } from "../logging/logger";
import { createPricing } from "../metering/pricing";
import { createUsageRecorder } from "../metering/usage-recorder";
import { createPrivacy, type Privacy } from "../privacy/create-privacy";
import { effectiveRegions } from "../residency/residency-violations";
import type { ConfiguredStore } from "../store/open-configured-store";

export interface ServicesDeps {
  config: Readonly<Config>;
  store: ConfiguredStore;
  logger: Logger;
  now?: () => number;
  /** Each retention purge run (scheduled or on demand, dry runs aside) with the rows it removed: the server's purge metrics. */
  onPurged?: (rowsRemoved: number) => void;
}

/**
 * The services over one store, built once for the server and for the CLI alike: keys, accounts,
 * pricing, admission, metering and privacy. Privacy (which reads the retention key and owns the
 * one purge job) is built on first use, so a command that never touches payloads does not need
 * a readable key; its RetentionKeyError surfaces where it is first used. So is admission: on a
 * shared store it holds a listening connection and a lease heartbeat, which no CLI command needs.
 */
export function composeServices(deps: ServicesDeps) {
  const { config, store, logger, now } = deps;
  const { repositories } = store;
  // A key's or account's allowed_regions may only narrow what [residency] allows.
  const installationRegions = effectiveRegions(config.residency);
  const pricing = createPricing(config.pricing);
  let privacy: Privacy | undefined;
  let admission: Admission | undefined;
  let fleetLimiter: ReturnType<typeof createPgConcurrencyLimiter> | undefined;
  const { usage, accounts } = repositories;

  /** On a shared store, concurrency and rpm/tpm hold across every node: leases and windows live in Postgres. */
  function fleetLimits(): Pick<Parameters<typeof createAdmission>[0], "limiter" | "windows"> {
    if (store.pg == null) return {};
    fleetLimiter = createPgConcurrencyLimiter({ db: store.pg, now });
    return { limiter: fleetLimiter, windows: { requests: createPgRateWindows(store.pg, "requests"), tokens: createPgRateWindows(store.pg, "tokens") } };
  }

  return {
    store,
    keys: createKeyService({ keys: repositories.keys, accounts, pepper: config.auth.pepper, now, installationRegions, limits: config.limits }),
    accounts: createAccountService({ accounts, now, installationRegions, limits: config.limits }),
    pricing,
    audit: repositories.audit,
    usage,
    get admission(): Admission {
      return (admission ??= createAdmission({ limits: config.limits, currency: pricing.currency, accounts, usage, now, ...fleetLimits() }));
    },
    // A usage row not written marks the store failing: the gate then refuses new inference.
    recorder: createUsageRecorder({ usage, health: store.health }),
    /** Payloads are kept only where [retention] or an account's consent allows it, and only encrypted. */
    get privacy(): Privacy {
      return (privacy ??= createPrivacy({
        consents: repositories.consents,
        payloads: repositories.payloads,
        subjects: repositories.subjects,
        retention: config.retention,
        logger,
        now,
        onPurged: deps.onPurged,
      }));
    },
    /** Gives this node's leases back to the fleet (the store itself is its opener's to close). */
    async [Symbol.asyncDispose]() {
      await fleetLimiter?.[Symbol.asyncDispose]();
    },
  };
}

export type Services = ReturnType<typeof composeServices>;
