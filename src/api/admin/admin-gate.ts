import type { Server } from "bun";
import { Elysia } from "elysia";
import { keyActor, type Actor } from "../../accounts/actor";
import { bearerSecret } from "../../auth/bearer-secret";
import type { KeyService } from "../../auth/key-service";
import { clientIp as peerAddress } from "../gate/client-ip";
import { PermissionDeniedError } from "../../errors";

export interface AdminGateDeps {
  keys: KeyService;
  clientIp?: (request: Request, server: Server<unknown> | null | undefined) => string | null;
}

/**
 * The plugin every `/admin` route module `.use()`s: it authenticates the bearer key (401), refuses
 * a user key (403), and resolves the `actor` the services decide by. The one admin role check.
 */
export function createAdminGate(deps: AdminGateDeps) {
  const { keys } = deps;
  const clientIp = deps.clientIp ?? peerAddress;
  return new Elysia().resolve({ as: "scoped" }, async ({ request, server }): Promise<{ actor: Actor }> => {
    const { key } = await keys.authenticate(bearerSecret(request.headers), clientIp(request, server ?? null));
    if (key.role === "user") throw new PermissionDeniedError("the admin API needs an admin or manager key; this is a user key");
    return { actor: keyActor(key) };
  });
}
