import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliActor } from "../../../src/accounts/actor";
import { configSchema } from "../../../src/config/schema";
import type { Engine } from "../../../src/inference/engine";
import { createFakeEngine, type FakeEngineOptions } from "../../../src/inference/fake-engine";
import { startEnclave } from "../../../src/serve/start-enclave";
import { memoryLogger } from "../../support/test-app";
import { sqliteAccountServices } from "../../support/sqlite-account-services";

/** A served Enclave (startEnclave, as `enclave serve` wires it) on 127.0.0.1 with an admin and a user key. */
export async function servedEdge(options: { server?: Record<string, unknown>; limits?: Record<string, unknown>; fake?: FakeEngineOptions; textRepeat?: number } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), "enclave-edge-"));
  const config = configSchema.parse({
    server: { host: "127.0.0.1", port: 0, shutdown_grace_seconds: 1, ...options.server },
    storage: { data_dir: dataDir },
    ...(options.limits && { limits: options.limits }),
  });
  const { logger, lines } = memoryLogger();
  const events = { yielded: 0 };
  const engine = countEvents(createFakeEngine({ models: [{ id: "fake" }], ...options.fake }), events, options.textRepeat ?? 1);
  const enclave = await startEnclave({
    config,
    logger,
    createEngine: async () => engine,
  });
  await enclave.ready;
  const cli = cliActor("edge-test");
  const { keys, accounts } = sqliteAccountServices(enclave.store.sqlite!.db, config.auth.pepper);
  const account = await accounts.ensureDefault(cli);
  const admin = (await keys.create(cli, { name: "admin", role: "admin", account_id: account.id })).secret;
  const user = (await keys.create(cli, { name: "user", account_id: account.id })).secret;
  return {
    port: Number(enclave.url.port),
    enclave,
    engine,
    /** Events the engine's streams have yielded so far (what generation has produced, read or not). */
    events,
    admin,
    user,
    logLines: lines,
    async [Symbol.asyncDispose]() {
      await enclave.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The engine, counting every event its streams yield; each text repeated `textRepeat` times (to fill a socket quickly). */
function countEvents(inner: Engine, events: { yielded: number }, textRepeat: number): Engine {
  return {
    ...inner,
    start: () => inner.start(),
    isReady: () => inner.isReady(),
    models: () => inner.models(),
    embed: (request) => inner.embed(request),
    [Symbol.asyncDispose]: () => inner[Symbol.asyncDispose](),
    async generate(request) {
      const stream = await inner.generate(request);
      return (async function* () {
        for await (const event of stream) {
          events.yielded++;
          yield event.type === "text" ? { ...event, text: event.text.repeat(textRepeat) } : event;
        }
      })();
    },
  };
}

export interface RawResponse {
  status: number;
  head: string;
  body: string;
}

/** Sends bytes exactly as given on a fresh TCP connection and reads until the server closes it (or `ms` pass). */
export function rawRequest(port: number, bytes: string, ms = 3000): Promise<RawResponse> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString("latin1");
      const split = text.indexOf("\r\n\r\n");
      const head = split < 0 ? text : text.slice(0, split);
      resolve({ status: Number(head.match(/^HTTP\/1\.[01] (\d{3})/)?.[1] ?? 0), head, body: split < 0 ? "" : text.slice(split + 4) });
    };
    const timer = setTimeout(settle, ms);
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("end", settle);
    socket.on("close", settle);
    socket.on("error", settle);
    socket.on("connect", () => socket.write(bytes, "latin1"));
  });
}

/** A request line and headers, `Connection: close` added. */
export function http(requestLine: string, headers: Record<string, string> = { host: "127.0.0.1" }, body = ""): string {
  return `${requestLine}\r\n${Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join("")}connection: close\r\n\r\n${body}`;
}
