import pino, { type Logger } from "pino";
import { prettyFactory } from "pino-pretty";
import type { Config } from "../config/schema";

export type { Logger };

/** Credentials, and the fields a payload would travel in, whether at the top level or one object down. */
const REDACTED_KEYS = [
  "authorization",
  "apiKey",
  "secret",
  "token",
  "headers",
  "cookie",
  "prompt",
  "messages",
  "input",
  "inputs",
  "content",
  "completion",
  "body",
  "arguments",
];
export const REDACTED_PATHS = REDACTED_KEYS.flatMap((key) => [key, `*.${key}`]);

type LoggingConfig = { logging: Pick<Config["logging"], "level"> & Partial<Pick<Config["logging"], "format">> };

/**
 * Log lines on stdout: JSON lines, or on a terminal (`[logging] format = "auto"`) the same
 * records as human-readable lines. Log calls pass metadata only (ids, counts, timings); the
 * redact list is a second line of defence for credentials and payloads that could ride along in
 * a header, request or error object, and applies before either format.
 */
export function createLogger(
  config: LoggingConfig,
  destination?: pino.DestinationStream,
  /** Whether the lines reach a terminal; a given destination is not one unless said. */
  isTty = destination == null && process.stdout.isTTY === true,
): Logger {
  const out = destination ?? pino.destination(1);
  const pretty = logFormat(config.logging.format ?? "auto", isTty) === "pretty";
  return pino(
    {
      level: config.logging.level,
      base: { service: "enclave" },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
      // pino's default err serializer takes any object with a message for an Error: it renames a
      // payload-free {type, message} to type "Object" and adds a stack. Log calls pass err already
      // reduced; an Error passed by mistake keeps only its class, since its message may quote input.
      serializers: { err: (err: unknown) => (err instanceof Error ? { type: err.name } : err) },
      formatters: { level: (label) => ({ level: label }) },
    },
    pretty ? prettyDestination(out, isTty) : out,
  );
}

/** The format a `[logging] format` gives on this stdout. */
export function logFormat(format: Config["logging"]["format"], isTty: boolean): "json" | "pretty" {
  return format === "auto" ? (isTty ? "pretty" : "json") : format;
}

/**
 * pino-pretty's formatter used in process on each line (not as a pino transport: that runs in a
 * worker thread, which a compiled single binary does not carry), one line per record.
 */
function prettyDestination(out: pino.DestinationStream, colorize: boolean): pino.DestinationStream {
  // errorLikeObjectKeys: []: an err is metadata (class, scrubbed message) and stays on its line.
  const format = prettyFactory({ colorize, singleLine: true, translateTime: "SYS:HH:MM:ss", ignore: "pid,hostname,service", errorLikeObjectKeys: [] });
  const flushable = out as pino.DestinationStream & { flush?: (...args: unknown[]) => void; flushSync?: () => void };
  // logger.flush() reaches the real destination through these.
  return Object.assign(
    { write: (line: string) => void out.write(format(line)) },
    flushable.flushSync != null ? { flushSync: () => flushable.flushSync!() } : {},
    flushable.flush != null ? { flush: (...args: unknown[]) => flushable.flush!(...args) } : {},
  );
}
