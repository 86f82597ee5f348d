import { ConfigError, formatProblem } from "../config/config-error";
import { loadConfig } from "../config/load";
import { residencyReport } from "../residency/residency-report";
import { servedConfig } from "../serve/served-config";
import { defineCommand } from "./command-spec";
import { commonOptions } from "./common-options";
import { UsageError } from "./parse-options";
import { runCommand } from "./run-command";

const spec = defineCommand({
  name: "residency",
  description: "what an auditor files about where data is processed and stored",
  actions: {
    report: { synopsis: "report", description: "JSON: region, paths, egress mode, backends, models and the config hash, as GET /admin/residency shows them; exit 1 on a violation" },
  },
  options: { config: commonOptions.config },
});

/** `enclave residency report [--config PATH]`: JSON an auditor can file; exit 1 if the config violates its own residency. */
export async function residencyCommand(args: string[]): Promise<number> {
  return runCommand(spec, args, ({ values, positionals }) => {
    const [action, ...extra] = positionals;
    if (action !== "report") throw new UsageError(action == null ? "residency needs an action (report)" : `unknown action '${action}'`);
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
    let config;
    try {
      config = loadConfig({ path: values.config }).config;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      for (const problem of error.problems) console.error(formatProblem(problem));
      return 1;
    }
    // The config as serve runs it (the demo pair when no [[models]]), so the report equals GET /admin/residency.
    const report = residencyReport(servedConfig(config));
    console.log(JSON.stringify(report, null, 2));
    return report.violations.length > 0 ? 1 : 0;
  });
}
