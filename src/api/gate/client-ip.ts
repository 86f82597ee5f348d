import type { Server } from "bun";

const peers = new WeakMap<Request, string>();

/**
 * Notes the connection's peer address for a request. The server's fetch handler calls it before
 * `app.handle(request)`: Elysia only knows the server when it listens itself.
 */
export function rememberPeer(request: Request, server: Pick<Server<unknown>, "requestIP">): void {
  const address = server.requestIP(request)?.address;
  if (address != null) peers.set(request, address);
}

/** The peer address of the connection (not X-Forwarded-For, which any client can write); null in-process. */
export function clientIp(request: Request, server?: Server<unknown> | null): string | null {
  return peers.get(request) ?? server?.requestIP(request)?.address ?? null;
}
