/** One thing wrong with the configuration, precise enough to fix without reading the code. */
export interface ConfigProblem {
  /** The config file, or the environment variable the value came from. */
  source: string;
  /** Dotted key path, e.g. `server.port` or `models[0].draft.path`. */
  key: string;
  expected: string;
  got: string;
}

export class ConfigError extends Error {
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join("\n"));
    this.name = "ConfigError";
    this.problems = problems;
  }
}

export function formatProblem(problem: ConfigProblem): string {
  return `${problem.source}: ${problem.key}: expected ${problem.expected}; got ${problem.got}`;
}
