type Env = Record<string, string | undefined>;

/**
 * The admin key a CLI command that talks to a running server sends: `ENCLAVE_KEY`, as the README
 * exports it, so the secret is never an argument that `ps` shows. Undefined when unset or empty.
 */
export function adminClientKey(env: Env = process.env): string | undefined {
  const key = env.ENCLAVE_KEY;
  return key != null && key !== "" ? key : undefined;
}
