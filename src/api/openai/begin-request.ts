import { assertModelAllowed } from "../../caller/assert-model-allowed";
import type { Incoming } from "./service";
import { speculativeHeader } from "./speculative-header";
import type { RequestContext } from "./translate";
import { waitForModel } from "./wait-for-model";

/**
 * What every generation endpoint does first: check the key's model scope at the edge (before
 * anything is queued), and give the request one AbortController, fired by the client's disconnect
 * or by a cancelled stream, with the context the engine request carries.
 */
export function beginRequest({ request, requestId, caller }: Incoming, model: string, newRequestId?: () => string): RequestContext & { abort: AbortController } {
  assertModelAllowed(caller, model);
  const abort = new AbortController();
  const client = request.signal;
  if (client.aborted) abort.abort(client.reason);
  else client.addEventListener("abort", () => abort.abort(client.reason), { once: true });
  return {
    requestId: newRequestId?.() ?? requestId ?? crypto.randomUUID().replaceAll("-", ""),
    caller,
    signal: abort.signal,
    waitForModel: waitForModel(request.headers),
    speculative: speculativeHeader(request.headers),
    abort,
  };
}
