import { createCallerGate } from "../../src/api/gate/caller-gate";
import type { Caller } from "../../src/caller/caller";
import type { AccountRow, ApiKeyRow } from "../../src/db/schema";
import { createRequestMeter } from "../../src/caller/request-meter";

/** A caller as the /v1 gate would resolve it, for route tests that need no keys or store. */
export function testCaller(key: Partial<ApiKeyRow> = {}): Caller {
  return {
    key: { id: "key_test", accountId: "acct_test", role: "user", models: null, ...key } as ApiKeyRow,
    account: { id: "acct_test" } as AccountRow,
    regions: null,
    meter: createRequestMeter(Date.now()),
  };
}

/** A gate that admits every request as a fresh `testCaller(key)`. */
export const fixedCallerGate = (key: Partial<ApiKeyRow> = {}) => createCallerGate({ resolve: () => testCaller(key) });
