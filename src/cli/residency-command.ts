import { ConfigError, formatProblem } from "../config/config-error";
import { loadConfig } from "../config/load";
import { residencyReport } from "../residency/residency-report";
import { parseOptions } from "./parse-options";

/** `enclave residency report [--config PATH]`: JSON an auditor can file; exit 1 if the config violates its own residency. */
export async function residencyCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, { config: { type: "string" } }, true);
  if (positionals[0] !== "report") {
    console.error("usage: enclave residency report [--config PATH]");
    return 2;
  }
  let config;
  try {
    config = loadConfig({ path: values.config }).config;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) console.error(formatProblem(problem));
    return 1;
  }
  const report = residencyReport(config);
  console.log(JSON.stringify(report, null, 2));
  return report.violations.length > 0 ? 1 : 0;
}
