import type { Server } from "bun";

/** The peer address of the connection (not X-Forwarded-For, which any client can write); null in-process. */
export function clientIp(request: Request, server: Server<unknown> | null | undefined): string | null {
  return server?.requestIP(request)?.address ?? null;
}
