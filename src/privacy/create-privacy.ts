import type { Config } from "../config/schema";
import type { Store } from "../db/client";
import type { Engine } from "../inference/engine";
import type { Logger } from "../logging/logger";
import { createConsentService } from "./consent-service";
import { createDataSubjectService } from "./data-subject-service";
import { createPayloadCaptureEngine } from "./payload-capture-engine";
import { decidePayloadRetention, type RequestSubject } from "./payload-policy";
import { createPayloadStore } from "./payload-store";
import { createPurgeJob } from "./purge-job";
import { loadRetentionKey, type RetentionKey } from "./retention-key";

export interface PrivacyDeps {
  store: Pick<Store, "db" | "sqlite">;
  retention: Config["retention"];
  logger: Logger;
  now?: () => number;
  /** Default: loaded from [retention] payload_key / payload_key_file. */
  key?: RetentionKey | null;
  /** Each purge run that is not a dry run, with the rows it removed. */
  onPurged?: (rowsRemoved: number) => void;
}

/**
 * The privacy services over one store: the payload store (encrypted), the capture decorator for
 * the engine, the purge job, consents and overrides, and data-subject export/erase. Throws
 * RetentionKeyError when a configured key cannot be read.
 */
export function createPrivacy(deps: PrivacyDeps) {
  const { store, retention, logger, now } = deps;
  const key = deps.key !== undefined ? deps.key : loadRetentionKey(retention);
  const { db, sqlite } = store;
  const payloads = createPayloadStore({ db, key, now });
  const decide = (subject: RequestSubject | null) => decidePayloadRetention(db, retention, subject);
  return {
    db,
    key,
    payloads,
    purge: createPurgeJob({ store, retention, key, now, logger, onPurged: deps.onPurged }),
    consents: createConsentService({ db, sqlite, retention, key, now }),
    dataSubject: createDataSubjectService({ db, sqlite, payloads, now }),
    /** Whether and how a subject's payloads may be kept (consent, overrides, the global mode). */
    decide,
    /** Wraps an engine so payloads are kept where the policy allows for each request's caller. */
    captureEngine(inner: Engine): Engine {
      return createPayloadCaptureEngine(inner, { store: payloads, decide, logger });
    },
  };
}

export type Privacy = ReturnType<typeof createPrivacy>;
