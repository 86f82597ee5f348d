import type { Server } from "bun";
import { Elysia } from "elysia";
import { z } from "zod";
import type { Actor } from "../../accounts/actor";
import { AuditQuery } from "../../audit/list-audit";
import type { AuditRepository } from "../../store/audit-repository";
import type { KeyService } from "../../auth/key-service";
import { RecordConsentInput, RetentionOverrideInput } from "../../privacy/consent-input";
import { toConsentView, toOverrideView } from "../../privacy/consent-service";
import type { Privacy } from "../../privacy/create-privacy";
import { createAdminGate } from "./admin-gate";
import { parseInput } from "../../validation/parse-input";
import { PermissionDeniedError } from "../../errors";

export interface PrivacyRoutesDeps {
  keys: KeyService;
  privacy: Privacy;
  audit: AuditRepository;
  clientIp?: (request: Request, server: Server<unknown> | null | undefined) => string | null;
}

export const PurgeQuery = z.strictObject({ dry_run: z.enum(["true", "false"]).optional() });

function requireAdmin(actor: Actor, what: string) {
  if (actor.role !== "admin") throw new PermissionDeniedError(`only an admin may ${what}`);
}

/**
 * `/admin` privacy routes: the audit log (list, verify), retention (policy, purge, overrides),
 * consents, and data-subject export/erase. Admin or manager keys (a user key gets 403); the
 * services decide what a manager may see or change. Every response is `no-store`: exports and
 * consent records are personal data.
 */
export function createPrivacyRoutes(deps: PrivacyRoutesDeps) {
  const { privacy } = deps;
  const { consents, dataSubject } = privacy;

  return new Elysia({ prefix: "/admin", name: "admin-privacy" })
    .use(createAdminGate(deps))
    .onBeforeHandle(({ set }) => {
      set.headers["cache-control"] = "no-store";
    })
    .get(
      "/audit",
      async ({ actor, query }) => {
        requireAdmin(actor, "read the audit log");
        return { object: "list", data: await deps.audit.list(parseInput(AuditQuery, query, "query")) };
      },
      { detail: { summary: "Audit log entries (since, until, actor, action or prefix 'key.', target, after_seq, limit, order)" } },
    )
    .get(
      "/audit/verify",
      async ({ actor }) => {
        requireAdmin(actor, "verify the audit log");
        return { object: "audit_verification", ...(await deps.audit.verify(privacy.key)) };
      },
      { detail: { summary: "Verify the audit hash chain: which entry was edited, deleted or reordered" } },
    )
    .get("/retention", async ({ actor }) => consents.summary(actor), { detail: { summary: "Retention policy, overrides and active consents" } })
    .post(
      "/retention/purge",
      async ({ actor, query }) => {
        requireAdmin(actor, "run the purge");
        const dryRun = parseInput(PurgeQuery, query, "query").dry_run === "true";
        return { object: "purge", ...(await privacy.purge.run({ dryRun, actor: dryRun ? undefined : actor.id })) };
      },
      { detail: { summary: "Run retention now (?dry_run=true only counts)" } },
    )
    .put("/accounts/:id/retention", async ({ actor, params, body }) => toOverrideView(await consents.setAccountOverride(actor, params.id, parseInput(RetentionOverrideInput, body))), {
      detail: { summary: "Set a stricter payload mode for an account" },
    })
    .delete("/accounts/:id/retention", async ({ actor, params }) => ({ object: "retention_override", account_id: params.id, deleted: await consents.clearAccountOverride(actor, params.id) }), {
      detail: { summary: "Remove an account's retention override" },
    })
    .put("/keys/:id/retention", async ({ actor, params, body }) => toOverrideView(await consents.setKeyOverride(actor, params.id, parseInput(RetentionOverrideInput, body))), {
      detail: { summary: "Set a stricter payload mode for a key" },
    })
    .delete("/keys/:id/retention", async ({ actor, params }) => ({ object: "retention_override", key_id: params.id, deleted: await consents.clearKeyOverride(actor, params.id) }), {
      detail: { summary: "Remove a key's retention override" },
    })
    .post(
      "/accounts/:id/consents",
      async ({ actor, params, body, set }) => {
        const consent = await consents.record(actor, params.id, parseInput(RecordConsentInput, body));
        set.status = 201;
        return toConsentView(consent);
      },
      { detail: { summary: "Record an account's informed consent to payload retention (admin only)" } },
    )
    .get("/accounts/:id/consents", async ({ actor, params }) => ({ object: "list", data: (await consents.list(actor, params.id)).map(toConsentView) }), {
      detail: { summary: "An account's consent records, revoked ones included" },
    })
    .delete(
      "/consents/:id",
      async ({ actor, params }) => {
        const { consent, payloads_deleted } = await consents.revoke(actor, params.id);
        return { ...toConsentView(consent), payloads_deleted };
      },
      { detail: { summary: "Revoke a consent and delete the payloads kept under it (admin only)" } },
    )
    .get("/accounts/:id/export", async ({ actor, params }) => dataSubject.export(actor, params.id), {
      detail: { summary: "Everything stored about an account, as JSON (data portability)" },
    })
    .post("/accounts/:id/erase", async ({ actor, params }) => dataSubject.erase(actor, params.id), {
      detail: { summary: "Erase an account's personal data (revoke keys, delete payloads, keep only billing aggregates); idempotent" },
    });
}
