import { ConfigError, type ConfigProblem } from "./config-error";
import type { Config } from "./schema";

type Env = Record<string, string | undefined>;

/**
 * Each upstream's API key, read once from the environment variable its `api_key_env` names
 * (upstreams without one get none). A named variable that is unset or empty is a configuration
 * problem, reported by name only: the value is never echoed.
 */
export function upstreamCredentials(config: Pick<Config, "upstreams">, env: Env = process.env): ReadonlyMap<string, string> {
  const keys = new Map<string, string>();
  const problems: ConfigProblem[] = [];
  config.upstreams.forEach((upstream, index) => {
    if (upstream.api_key_env == null) return;
    const value = env[upstream.api_key_env];
    if (value == null || value === "") {
      problems.push({ source: upstream.api_key_env, key: `upstreams[${index}].api_key_env`, expected: "a set environment variable holding the upstream's API key", got: "unset" });
      return;
    }
    keys.set(upstream.id, value);
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return keys;
}
