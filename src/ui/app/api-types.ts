/**
 * The wire shapes the console reads, taken from the server's own code where it has one (type-only
 * imports: nothing of the server is bundled into the page).
 */
import type { toAccountView } from "../../accounts/account-view";
import type { ServerStatus } from "../../api/admin/server-status";
import type { AuditView } from "../../audit/list-audit";
import type { AuditVerification as ServerAuditVerification } from "../../audit/verify-audit";
import type { toKeyView } from "../../auth/key-view";
import type { RequestLogPage } from "../../metering/request-log";
import type { UsageRow as ServerUsageRow } from "../../metering/usage-report";
import type { ConsentService } from "../../privacy/consent-service";
import type { ResidencyReport } from "../../residency/residency-report";

export type { RequestLogPage, ResidencyReport, ServerStatus };
export type RequestLogEntry = RequestLogPage["data"][number];
export type KeyView = ReturnType<typeof toKeyView>;
export type CreatedKey = KeyView & { secret: string };
export type AccountView = ReturnType<typeof toAccountView>;
export type UsageRow = Omit<ServerUsageRow, "cost_micros"> & { cost: number };

export interface List<T> {
  object: "list";
  data: T[];
}

export interface UsageList extends List<UsageRow> {
  currency: string;
}

export type AuditEntry = AuditView;
export type AuditVerification = ServerAuditVerification & { object: "audit_verification" };
export type RetentionSummary = Awaited<ReturnType<ConsentService["summary"]>>;

export interface ModelList extends List<{ id: string; owned_by?: string }> {}
