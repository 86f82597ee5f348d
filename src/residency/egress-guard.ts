import net from "node:net";
import tls from "node:tls";
import { isLoopback } from "../net/is-loopback";

export class EgressDeniedError extends Error {
  constructor(readonly host: string) {
    super(`outbound connection to '${host}' refused: residency egress policy allows only declared upstreams`);
    this.name = "EgressDeniedError";
  }
}

export interface EgressGuard extends Disposable {
  /** Hosts refused so far (never the request, only where it was going). */
  readonly refused: readonly string[];
}

type ConnectArgs = unknown[];

/**
 * Refuses, before any socket opens, every outbound connection from this process except to
 * loopback and to `allowedHosts` (the declared upstreams under "allow-listed"; none under "deny").
 * Wraps fetch and node:net/tls connect, which is what our dependencies use to reach the network.
 */
export function installEgressGuard(options: { allowedHosts: string[]; onRefused?: (host: string) => void }): EgressGuard {
  const allowed = new Set(options.allowedHosts.map((host) => host.toLowerCase()));
  const refused: string[] = [];
  const check = (host: string | undefined) => {
    if (host == null || host === "" || isLoopback(host) || allowed.has(host.toLowerCase())) return;
    refused.push(host);
    options.onRefused?.(host);
    throw new EgressDeniedError(host);
  };

  const originalFetch = globalThis.fetch;
  const guardedFetch = Object.assign(
    (input: string | URL | Request, init?: RequestInit) => {
      try {
        const url = new URL(input instanceof Request ? input.url : String(input));
        if (url.protocol === "http:" || url.protocol === "https:" || url.protocol === "ws:" || url.protocol === "wss:") check(url.hostname.replace(/^\[|\]$/g, ""));
      } catch (error) {
        return Promise.reject(error);
      }
      return originalFetch(input, init);
    },
    originalFetch,
  );
  globalThis.fetch = guardedFetch as typeof fetch;

  const originals = {
    netConnect: net.connect,
    netCreateConnection: net.createConnection,
    tlsConnect: tls.connect,
    socketConnect: net.Socket.prototype.connect,
  };
  const hostOf = (args: ConnectArgs): string | undefined => {
    const [first, second] = args;
    if (typeof first === "object" && first != null) {
      const options = first as { host?: string; path?: string };
      if (options.path != null) return undefined; // a unix socket stays on this machine
      return options.host ?? "localhost";
    }
    if (typeof first === "number") return typeof second === "string" ? second : "localhost";
    return undefined; // a path string: a unix socket
  };
  const guard = <F extends (...args: any[]) => any>(fn: F): F =>
    function (this: unknown, ...args: ConnectArgs) {
      check(hostOf(args));
      return fn.apply(this, args);
    } as F;
  net.connect = guard(originals.netConnect);
  net.createConnection = guard(originals.netCreateConnection);
  tls.connect = guard(originals.tlsConnect);
  net.Socket.prototype.connect = guard(originals.socketConnect);

  return {
    refused,
    [Symbol.dispose]() {
      globalThis.fetch = originalFetch;
      net.connect = originals.netConnect;
      net.createConnection = originals.netCreateConnection;
      tls.connect = originals.tlsConnect;
      net.Socket.prototype.connect = originals.socketConnect;
    },
  };
}
