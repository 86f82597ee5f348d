import pino, { type Logger } from "pino";
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

/**
 * JSON lines on stdout. Log calls pass metadata only (ids, counts, timings); the redact list is a
 * second line of defence for credentials and payloads that could ride along in a header, request
 * or error object.
 */
export function createLogger(config: Pick<Config, "logging">, destination: pino.DestinationStream = pino.destination(1)): Logger {
  return pino(
    {
      level: config.logging.level,
      base: { service: "enclave" },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
