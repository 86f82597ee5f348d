import pino from "pino";
import { createApp, type AppDeps } from "../../src/api/app";
import { createFakeEngine } from "../../src/inference/fake-engine";
import type { Engine } from "../../src/inference/engine";

/** Collects log lines in memory so tests can assert what was (and was not) logged. */
export function memoryLogger(level = "debug") {
  const lines: string[] = [];
  const logger = pino({ level }, { write: (line: string) => void lines.push(line) });
  return { logger, lines };
}

/** The real app around a fake engine, for in-process `app.handle(request)` tests. */
export function createTestApp(overrides: Partial<AppDeps> & { engine?: Engine } = {}) {
  const { logger, lines } = memoryLogger();
  const engine = overrides.engine ?? createFakeEngine();
  const app = createApp({
    config: { server: { host: "127.0.0.1", port: 0, body_limit_bytes: 64 * 1024, cors_origins: [], write_timeout_seconds: 30, shutdown_grace_seconds: 1 } },
    engine,
    logger,
    version: "test",
    storeIsOpen: () => true,
    ...overrides,
  });
  return { app, engine, logLines: lines };
}

export function request(path: string, init: RequestInit & { json?: unknown } = {}): Request {
  const { json, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (json !== undefined) headers.set("content-type", "application/json");
  return new Request(`http://localhost${path}`, { ...rest, headers, body: json !== undefined ? JSON.stringify(json) : rest.body });
}
