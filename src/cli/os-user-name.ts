import { userInfo } from "node:os";

export interface OsUserDeps {
  userInfo: () => { username: string; uid: number };
  env: Record<string, string | undefined>;
  uid: () => number;
}

const defaults: OsUserDeps = { userInfo, env: process.env, uid: () => process.getuid?.() ?? -1 };

/**
 * The OS user running the CLI, for the audit log's `cli:<user>`. Under Bun os.userInfo() can
 * answer "unknown" (or throw in a container without a passwd entry), so the login variables the
 * shell set come next, and the numeric uid last: an audit entry must name someone who can be
 * asked. The environment is read here, not through the config, because it is not a setting.
 */
export function osUserName(deps: OsUserDeps = defaults): string {
  const known = (name: string | undefined) => name != null && name !== "" && name !== "unknown";
  try {
    const { username } = deps.userInfo();
    if (known(username)) return username;
  } catch {
    // no passwd entry: fall through
  }
  for (const name of [deps.env.USER, deps.env.LOGNAME]) if (known(name)) return name!;
  const uid = deps.uid();
  return uid >= 0 ? `uid:${uid}` : "unknown";
}
