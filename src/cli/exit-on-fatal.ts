import { describeFailure } from "./describe-failure";

/**
 * An error nothing caught (a rejected promise or a throw in a callback after the command
 * returned) ends the process with one line and exit 1, instead of Bun's stack trace and source
 * excerpt, which would show internals to the operator and, in a log, to whoever reads it.
 */
export function exitOnFatal(target: Pick<NodeJS.Process, "on" | "exit"> = process): void {
  const fatal = (error: unknown) => {
    console.error(`enclave: ${describeFailure(error)}`);
    target.exit(1);
  };
  target.on("uncaughtException", fatal);
  target.on("unhandledRejection", fatal);
}
