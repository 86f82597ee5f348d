import type { Config } from "../config/schema";
import type { Engine } from "../inference/engine";
import type { Logger } from "../logging/logger";
import type { ConsentRepository } from "../store/consent-repository";
import type { PayloadRepository } from "../store/payload-repository";
import type { SubjectRepository } from "../store/subject-repository";
import { createConsentService } from "./consent-service";
import { createDataSubjectService } from "./data-subject-service";
import { createPayloadCaptureEngine } from "./payload-capture-engine";
import { decidePayloadRetention, type RequestSubject } from "./payload-policy";
import { createPayloadStore } from "./payload-store";
import { createPurgeJob } from "./purge-job";
import { loadRetentionKey, type RetentionKey } from "./retention-key";

export interface PrivacyDeps {
  /** Consents and overrides, and the retained payloads with the purge: either backend. */
  consents: ConsentRepository;
  payloads: PayloadRepository;
  /** One account's records across every table, for export and erasure. */
  subjects: SubjectRepository;
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
  const { retention, logger, now } = deps;
  const key = deps.key !== undefined ? deps.key : loadRetentionKey(retention);
  const payloads = createPayloadStore({ payloads: deps.payloads, key, now });
  const decide = (subject: RequestSubject | null) => decidePayloadRetention(deps.consents, retention, subject);
  return {
    key,
    payloads,
    /** The rows under `payloads` (ciphertext), for stored Responses API answers and draft-data export. */
    payloadRows: deps.payloads,
    /** Each account's records across tables: who is locked out, for the prompt-cache sweep. */
    subjects: deps.subjects,
    purge: createPurgeJob({ payloads: deps.payloads, retention, key, now, logger, onPurged: deps.onPurged }),
    consents: createConsentService({ consents: deps.consents, retention, key, now }),
    dataSubject: createDataSubjectService({ subjects: deps.subjects, payloads, now }),
    /** Whether and how a subject's payloads may be kept (consent, overrides, the global mode). */
    decide,
    /** Wraps an engine so payloads are kept where the policy allows for each request's caller. */
    captureEngine(inner: Engine): Engine {
      return createPayloadCaptureEngine(inner, { store: payloads, decide, logger });
    },
  };
}

export type Privacy = ReturnType<typeof createPrivacy>;
