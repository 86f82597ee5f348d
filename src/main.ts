import { exitOnFatal } from "./cli/exit-on-fatal";
import { runCli } from "./cli/run-cli";

exitOnFatal();
process.exitCode = await runCli(process.argv.slice(2));
