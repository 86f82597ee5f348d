import type { AccountRow, ApiKeyRow } from "../db/schema";
import type { RequestMeter } from "./request-meter";
import type { RegionScope } from "../auth/key-service";

/**
 * Who is calling: resolved once by the /v1 gate and carried on the request down to the engine.
 * Every guard that needs it takes it from here, and throws when it is absent.
 */
export interface Caller {
  readonly key: ApiKeyRow;
  readonly account: AccountRow;
  /** Regions the key's requests may be processed in (its own list narrowed by its accounts'); null: `[residency]` alone. */
  readonly regions: RegionScope | null;
  /** What this request has used so far: the metered engine fills it in, the gate records it. */
  readonly meter: RequestMeter;
}
