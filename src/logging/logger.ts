import pino, { type Logger } from "pino";
import type { Config } from "../config/schema";

export type { Logger };

/**
 * JSON lines on stdout. Log calls pass metadata only (ids, counts, timings); the redact list is a
 * second line of defence for credentials that could ride along in a header or error object.
 */
export function createLogger(config: Pick<Config, "logging">, destination: pino.DestinationStream = pino.destination(1)): Logger {
  return pino(
    {
      level: config.logging.level,
      base: { service: "enclave" },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ["authorization", "*.authorization", "headers.authorization", "apiKey", "*.apiKey", "secret", "*.secret"],
        censor: "[redacted]",
      },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
