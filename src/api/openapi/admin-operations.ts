import { z } from "zod";
import { CreateAccountInput, CreditsInput, UpdateAccountInput } from "../../accounts/account-input";
import type { toAccountView } from "../../accounts/account-view";
import { AuditQuery, type AuditView } from "../../audit/list-audit";
import { CreateKeyInput, UpdateKeyInput } from "../../auth/key-input";
import type { toKeyView } from "../../auth/key-view";
import { RequestLogQuery } from "../../metering/request-log";
import { AddModelInput, type ModelView } from "../../models/model-admin";
import { UsageQuery } from "../../metering/usage-report";
import { RecordConsentInput, RetentionOverrideInput } from "../../privacy/consent-input";
import type { toConsentView } from "../../privacy/consent-service";
import type { ResidencyReport } from "../../residency/residency-report";
import { RemoveModelQuery } from "../admin/model-routes";
import { PurgeQuery } from "../admin/privacy-routes";
import { KeyListQuery } from "../admin/routes";
import type { ServerStatus } from "../admin/server-status";
import type { ApiOperations } from "./api-operation";

const int = z.number().int();
const time = z.iso.datetime();
const nullableTime = time.nullable();
const money = z.number().nullable().describe("in the configured currency");
const budgetPeriod = z.enum(["day", "month"]).nullable();
const space = z.looseObject({ vacuum: z.string(), wal: z.string(), free_pages: int }).nullable();

const Account = z
  .looseObject({
    id: z.string(),
    object: z.literal("account"),
    name: z.string(),
    parent_id: z.string().nullable(),
    concurrency: int.nullable(),
    budget_period: budgetPeriod,
    budget_tokens: int.nullable(),
    budget_cost: money,
    credits: money,
    allowed_regions: z.array(z.string()).nullable(),
    created_at: time,
    updated_at: time,
    deleted_at: nullableTime,
  })
  .meta({ id: "Account" });

const Key = z
  .looseObject({
    id: z.string(),
    object: z.literal("api_key"),
    name: z.string(),
    account_id: z.string(),
    role: z.enum(["admin", "manager", "user"]),
    prefix: z.string().describe("the secret's first characters, to recognise it; never the secret"),
    models: z.array(z.string()).nullable(),
    allowed_ips: z.array(z.string()).nullable(),
    allowed_regions: z.array(z.string()).nullable(),
    concurrency: int.nullable(),
    rpm: int.nullable(),
    tpm: int.nullable(),
    budget_period: budgetPeriod,
    budget_tokens: int.nullable(),
    budget_cost: money,
    created_at: time,
    last_used_at: nullableTime,
    expires_at: nullableTime,
    revoked_at: nullableTime,
    usage: z.looseObject({ requests: int, prompt_tokens: int, completion_tokens: int, cost: z.number() }).optional(),
  })
  .meta({ id: "ApiKey" });

const Consent = z
  .looseObject({
    id: z.string(),
    object: z.literal("consent"),
    account_id: z.string(),
    mode: z.enum(["anonymized", "full"]),
    purposes: z.array(z.string()),
    retention_days: int,
    granted_by: z.string(),
    statement: z.string(),
    granted_at: time,
    recorded_by: z.string(),
    recorded_at: time,
    revoked_at: nullableTime,
    revoked_by: z.string().nullable(),
  })
  .meta({ id: "Consent" });

const Override = z.looseObject({ object: z.literal("retention_override"), account_id: z.string().optional(), key_id: z.string().optional(), payloads: z.enum(["none", "anonymized", "full"]), set_by: z.string(), set_at: time }).meta({ id: "RetentionOverride" });
const OverrideDeleted = z.looseObject({ object: z.literal("retention_override"), account_id: z.string().optional(), key_id: z.string().optional(), deleted: z.boolean() });

const AuditEntry = z.looseObject({ seq: int, at: time, actor: z.string(), action: z.string(), target: z.string(), details: z.unknown(), prev_hash: z.string(), hash: z.string() }).meta({ id: "AuditEntry" });
const AuditVerification = z.looseObject({
  object: z.literal("audit_verification"),
  ok: z.boolean(),
  entries: int,
  first_seq: int.nullable(),
  last_seq: int.nullable(),
  head_hash: z.string(),
  checkpoint: z.looseObject({ seq: int, hash: z.string(), signature: z.string() }).nullable(),
  problems: z.array(z.looseObject({ seq: int, kind: z.enum(["edited", "deleted", "reordered", "checkpoint"]), message: z.string() })),
});

const Status = z.looseObject({
  object: z.literal("status"),
  version: z.string(),
  uptime_seconds: int,
  caller: z.looseObject({ key_id: z.string().nullable(), role: z.string(), account_id: z.string().nullable() }),
  models: z.array(
    z.looseObject({ id: z.string(), default: z.boolean(), state: z.enum(["unloaded", "loading", "ready", "failed"]), context_size: int.nullable(), parallel: int, busy_sequences: int, queue_depth: int, speculative: z.looseObject({ mode: z.string(), active: z.boolean() }), prompt_cache: z.looseObject({ scope: z.enum(["account", "key", "off"]), cached_sequences: int, cached_tokens: int, ram_prefixes: int, ram_bytes: int }).nullable() }),
  ),
  recent: z.looseObject({ window_seconds: int, requests: int, errors: int }),
});

const Model = z
  .looseObject({
    object: z.literal("model"),
    id: z.string(),
    path: z.string().describe("the GGUF file's real path"),
    draft_path: z.string().nullable(),
    default: z.boolean(),
    state: z.enum(["unloaded", "loading", "ready", "failed"]),
    context_size: int,
    parallel: int,
    busy_sequences: int,
    queue_depth: int,
    keep_alive_seconds: z.number(),
    speculative: z.enum(["draft", "lookup", "none"]),
  })
  .meta({ id: "AdminModel" });

const Residency = z.looseObject({
  generated_at: time,
  enclave_version: z.string(),
  region: z.string().nullable(),
  allowed_regions: z.array(z.string()).nullable(),
  allowed_paths: z.array(z.string()),
  egress: z.enum(["deny", "allow-listed"]),
  store: z.looseObject({ kind: z.enum(["sqlite", "postgres"]), region: z.string().nullable(), on_this_machine: z.boolean() }),
  paths: z.looseObject({ data_dir: z.string(), store: z.string(), temp_dir: z.string(), runtime_dir: z.string().nullable(), models: z.array(z.looseObject({ id: z.string(), path: z.string(), draft: z.string().nullable() })) }),
  backends: z.array(z.looseObject({ id: z.string(), kind: z.enum(["local", "upstream"]), region: z.string().nullable(), models: z.array(z.string()) })),
  config_hash: z.string(),
  violations: z.array(z.looseObject({})),
});

const list = <T extends z.ZodType>(item: T) => z.looseObject({ object: z.literal("list"), data: z.array(item) });
const account = "Accounts";
const keys = "Keys";
const privacy = "Privacy";
const operations = "Operations";
const models = "Models";

/** The admin API under /admin (admin and manager keys). */
export const adminOperations: ApiOperations = {
  "POST /admin/accounts": { tag: account, body: CreateAccountInput, response: Account, status: 201 },
  "GET /admin/accounts": { tag: account, response: list(Account) },
  "GET /admin/accounts/:id": { tag: account, response: Account },
  "PATCH /admin/accounts/:id": { tag: account, body: UpdateAccountInput, response: Account },
  "DELETE /admin/accounts/:id": { tag: account, response: Account },
  "POST /admin/accounts/:id/credits": { tag: account, body: CreditsInput, response: Account },
  "POST /admin/keys": { tag: keys, body: CreateKeyInput, response: Key.extend({ secret: z.string().describe("the key itself, shown in this response only") }), status: 201 },
  "GET /admin/keys": { tag: keys, query: KeyListQuery, response: list(Key) },
  "GET /admin/keys/:id": { tag: keys, response: Key },
  "PATCH /admin/keys/:id": { tag: keys, body: UpdateKeyInput, response: Key },
  "DELETE /admin/keys/:id": { tag: keys, response: Key },
  "GET /admin/usage": {
    tag: operations,
    query: UsageQuery,
    response: z.looseObject({
      object: z.literal("list"),
      currency: z.string(),
      data: z.array(z.looseObject({ key_id: z.string().optional(), account_id: z.string().optional(), model: z.string().nullable().optional(), day: z.string().optional(), requests: int, errors: int, prompt_tokens: int, completion_tokens: int, cost: z.number() })),
    }),
  },
  "GET /admin/audit": { tag: privacy, query: AuditQuery, response: list(AuditEntry) },
  "GET /admin/audit/verify": { tag: privacy, response: AuditVerification },
  "GET /admin/retention": {
    tag: privacy,
    response: z.looseObject({
      object: z.literal("retention"),
      payloads: z.enum(["none", "anonymized", "full"]),
      payload_days: int,
      metadata_detail_days: int,
      security_days: int,
      audit_days: int,
      purge_interval_minutes: int,
      payload_key: z.looseObject({ fingerprint: z.string() }).nullable(),
      retained_payloads: int.optional().describe("admin keys only"),
      overrides: z.array(Override),
      active_consents: z.array(Consent),
    }),
  },
  "POST /admin/retention/purge": {
    tag: privacy,
    query: PurgeQuery,
    response: z.looseObject({ object: z.literal("purge"), dry_run: z.boolean(), at: time, payloads_deleted: int, usage_rows_rolled_up: int, client_ips_cleared: int, audit_entries_removed: int, audit_checkpoint_seq: int.nullable(), space }),
  },
  "PUT /admin/accounts/:id/retention": { tag: privacy, body: RetentionOverrideInput, response: Override },
  "DELETE /admin/accounts/:id/retention": { tag: privacy, response: OverrideDeleted },
  "PUT /admin/keys/:id/retention": { tag: privacy, body: RetentionOverrideInput, response: Override },
  "DELETE /admin/keys/:id/retention": { tag: privacy, response: OverrideDeleted },
  "POST /admin/accounts/:id/consents": { tag: privacy, body: RecordConsentInput, response: Consent, status: 201 },
  "GET /admin/accounts/:id/consents": { tag: privacy, response: list(Consent) },
  "DELETE /admin/consents/:id": { tag: privacy, response: Consent.extend({ payloads_deleted: int }) },
  "GET /admin/accounts/:id/export": {
    tag: privacy,
    response: z.looseObject({ object: z.literal("account_export"), generated_at: time, account: Account, keys: z.array(Key) }),
  },
  "POST /admin/accounts/:id/erase": {
    tag: privacy,
    response: z.looseObject({ object: z.literal("account_erasure"), account_id: z.string(), already_erased: z.boolean(), keys_revoked: int, payloads_deleted: int, usage_rows_rolled_up: int, consents_revoked: int, overrides_removed: int, space }),
  },
  "GET /admin/requests": {
    tag: operations,
    query: RequestLogQuery,
    response: z.looseObject({
      object: z.literal("list"),
      data: z.array(
        z.looseObject({
          id: z.string(),
          started_at: time,
          key_id: z.string().nullable(),
          account_id: z.string().nullable(),
          endpoint: z.string(),
          model: z.string().nullable(),
          status: int,
          error_code: z.string().nullable(),
          prompt_tokens: int,
          completion_tokens: int,
          queue_ms: int.nullable(),
          ttft_ms: int.nullable(),
          duration_ms: int.nullable(),
        }),
      ),
      has_more: z.boolean(),
    }),
  },
  "GET /admin/status": { tag: operations, response: Status },
  "GET /admin/models": { tag: models, response: list(Model) },
  "POST /admin/models": { tag: models, body: AddModelInput, response: Model, status: 201 },
  "POST /admin/models/:id/load": { tag: models, response: Model },
  "POST /admin/models/:id/unload": { tag: models, response: Model },
  "DELETE /admin/models/:id": { tag: models, query: RemoveModelQuery, response: Model },
  "GET /admin/residency": { tag: operations, response: Residency },
};

/** Compile-time proof that the views still fit the schemas the document publishes (their named fields; loose objects allow more). */
type Known<T> = T extends readonly (infer Item)[] ? Known<Item>[] : T extends object ? { [K in keyof T as string extends K ? never : K]: Known<T[K]> } : T;
type Fits<View extends Known<Schema>, Schema> = View;
export type AdminViewsFit = [
  Fits<ReturnType<typeof toAccountView>, z.output<typeof Account>>,
  Fits<ReturnType<typeof toKeyView>, z.output<typeof Key>>,
  Fits<ReturnType<typeof toConsentView>, z.output<typeof Consent>>,
  Fits<AuditView, z.output<typeof AuditEntry>>,
  Fits<ServerStatus, z.output<typeof Status>>,
  Fits<ResidencyReport, z.output<typeof Residency>>,
  Fits<ModelView, z.output<typeof Model>>,
];
